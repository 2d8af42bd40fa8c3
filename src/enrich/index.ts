export { FIELD_BOUNDS, LOG_BOUNDS, TRUNCATED, boundedJson, boundedJsonOf, nestingUpperBound, type JsonBounds } from './bounded.js';
export { decodeValue, firstInvalidUtf8, type DecodeInput, type DecodeReason } from './decode.js';
export { EnrichedMessage, Enricher, type EnrichOptions, type MessageInput, type Outcome, type PoisonCode, type ProcessLimits } from './enricher.js';
export { EVENT_SCHEMA, EventEncoder, buildEvent, type EventSource, type FileSource, type KafkaSource, type LogsiftEvent } from './event.js';
export { DEFAULT_MESSAGE_FIELDS, JsonRequiredError, extractText, getField, type Extracted, type InputFormat } from './extract.js';
export { SuffixAutomaton, buildSignatureIndex, longestCommonSubstring, rankMatches, scoreMatch, type RankedMatch, type SignatureIndex } from './rank.js';
