export { buildDatabase, cacheFile, cacheKey, describeBuild, unicodeCacheFile, type BuildEvent, type BuildOptions, type BuiltDatabase, type UnicodeMode } from './database.js';
export { DEFAULT_EXACT_BUDGET_MS, EXACT_THREAD_NAME, ExactBudgetError, ExactEngine, isLinearByConstruction, type ExactOutcome, type ExactTask } from './exact-engine.js';
export { Matcher, defaultCacheDir, defaultPrebuiltDirs, resolveCacheDir, type MatcherInfo, type MatcherOptions, type MatcherScan, type SerializedUnicodePart } from './matcher.js';
export { HsFlags, PORTABLE_PLATFORM, loadNative, nativePath, type NativeBinding, type NativePattern, type NativePlatform } from './native.js';
export { exactEngineRuns, hyperscanFlags, planPatterns, summarize, type CompileClass, type PatternSource, type PlannedPattern } from './plan.js';
export { PyRegexSyntaxError, translatePyRegex, type PyRegexFeatures, type TranslatedRegex } from './pyregex.js';
