export { buildDatabase, cacheKey, describeBuild, type BuildEvent, type BuildOptions, type BuiltDatabase } from './database.js';
export { Matcher, defaultCacheDir, type MatcherInfo, type MatcherOptions } from './matcher.js';
export { HsFlags, loadNative, nativePath, type NativeBinding, type NativePattern } from './native.js';
export { hyperscanFlags, planPatterns, summarize, type CompileClass, type PlannedPattern } from './plan.js';
export { PyRegexSyntaxError, translatePyRegex, type PyRegexFeatures, type TranslatedRegex } from './pyregex.js';
