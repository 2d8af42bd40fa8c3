export { Enricher, type EnrichOptions, type EnrichedMessage } from './enricher.js';
export { EVENT_SCHEMA, buildEvent, type EventSource, type FileSource, type KafkaSource, type LogsiftEvent } from './event.js';
export { DEFAULT_MESSAGE_FIELDS, JsonRequiredError, extractText, getField, type Extracted, type InputFormat } from './extract.js';
export { buildSignatureIndex, longestCommonSubstring, rankMatches, scoreMatch, type RankedMatch, type SignatureIndex } from './rank.js';
