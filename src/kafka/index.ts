export { createKafka } from './client.js';
export { Daemon, type DaemonDeps } from './daemon.js';
export { AtLeastOnceDelivery, ExactlyOnceDelivery, groupByTopic, isFencedError, transactionalId, type CommitPoint, type Delivery, type DeliveryTiming, type ExactlyOnceOptions } from './delivery.js';
export { NO_OBSERVER, type BatchReport, type MatchedSignature, type PipelineObserver, type ReadinessState } from './observer.js';
export { HEADER, InlineProcessor, chunkRecords, decode, dlqRecord, enrichChunk, firstHeader, headerString, kafkaSource, processMessages, type ChunkItem, type ChunkProcessor, type DlqReason, type EnrichedChunk, type HeaderValue, type InputMessage, type MiningSelector, type OutputRecord, type Poison, type ProcessOptions, type ProcessResult } from './records.js';
export { EnrichPool } from './enrich-pool.js';
