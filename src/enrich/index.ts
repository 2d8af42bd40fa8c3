export { DEFAULT_MIN_STRENGTH, EnrichedMessage, Enricher, type EnrichOptions } from './enricher.js';
export { EVENT_SCHEMA, EventEncoder, buildEvent, type EventSource, type FileSource, type KafkaSource, type LogsiftEvent } from './event.js';
export { DEFAULT_MESSAGE_FIELDS, JsonRequiredError, extractText, getField, textFormat, type Extracted, type InputFormat, type MessageFormat } from './extract.js';
export { contextFields, type EventContext } from './context.js';
export { OtlpDecodeError, decodeOtlpLogs, otlpEncoding, type OtlpEncoding, type OtlpLogView } from './otlp.js';
export { RESOURCE_FIELDS, mergeResource, resourceFromAttributes, resourceFromLog, type EventResource, type ResourceField } from './resource.js';
export { parseSyslog, type SyslogLine } from './syslog.js';
export { SuffixAutomaton, buildSignatureIndex, longestCommonSubstring, primaryOf, rankMatches, scoreMatch, type RankedMatch, type SignatureIndex } from './rank.js';
export { MIN_PHRASE_WORDS, StrengthIndex, type StrengthScorer, fixedWords, isCompoundIdentifier, messageWords, regexAlternativeLiterals } from './strength.js';
