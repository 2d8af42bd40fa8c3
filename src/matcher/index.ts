export { buildDatabase, cacheFile, cacheKey, describeBuild, type BuildEvent, type BuildOptions, type BuiltDatabase } from './database.js';
export { Matcher, defaultCacheDir, defaultPrebuiltDirs, type MatcherInfo, type MatcherOptions } from './matcher.js';
export { HsFlags, PORTABLE_PLATFORM, loadNative, nativePath, type NativeBinding, type NativePlatform } from './native.js';
export { hyperscanFlags, planPatterns, summarize, type CompileClass, type PlannedPattern } from './plan.js';
export { PyRegexSyntaxError, translatePyRegex, type PyRegexFeatures, type TranslatedRegex } from './pyregex.js';
