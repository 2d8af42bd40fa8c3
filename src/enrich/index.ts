export { DEFAULT_MIN_STRENGTH, EnrichedMessage, Enricher, type EnrichOptions } from './enricher.js';
export { EVENT_SCHEMA, EventEncoder, buildEvent, type EventSource, type FileSource, type KafkaSource, type LogsiftEvent } from './event.js';
export { DEFAULT_MESSAGE_FIELDS, JsonRequiredError, extractText, getField, type Extracted, type InputFormat } from './extract.js';
export { SuffixAutomaton, buildSignatureIndex, longestCommonSubstring, primaryOf, rankMatches, scoreMatch, type RankedMatch, type SignatureIndex } from './rank.js';
export { MIN_PHRASE_WORDS, StrengthIndex, type StrengthScorer, fixedWords, isCompoundIdentifier, messageWords, regexAlternativeLiterals } from './strength.js';
export { diffBatch, diffEnriched, summarize, type ShadowDiff, type ShadowDiffKind, type ShadowSummary } from './shadow.js';
