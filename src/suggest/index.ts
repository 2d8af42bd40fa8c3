export { draftRecord, escapeRegex, type DraftRecord } from './draft.js';
export { DEFAULT_ERROR_KEYWORDS, DEFAULT_ERROR_LEVELS, ErrorLineClassifier, type ErrorLineOptions } from './error-lines.js';
export { TemplateMiner, WILDCARD, maskLine, tokenize, type TemplateMinerOptions, type TemplateView } from './templates.js';
export { ErrorTextSelector, MAX_MINED_CHARS, errorTextSelector, UnmatchedMiner, formatSuggestions, type MinedText, type MiningSelector, type Suggestion, type UnmatchedMinerOptions } from './unmatched.js';
