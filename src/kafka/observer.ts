/**
 * What the daemon reports as it works. Telemetry implements it (Prometheus, tracing); the flow only
 * calls it, so it never imports a metrics SDK.
 */
import type { EventResource } from '../enrich/index.js';
import type { KbRecord } from '../kb/index.js';
import type { DlqReason } from './records.js';

/** What a metric needs of a matched record: its id and labels, not an index into a KB that a reload may replace. */
export type MatchedSignature = Pick<KbRecord, 'id' | 'domain' | 'category'>;

export interface BatchReport {
  topic: string;
  partition: number;
  messages: number;
  bytes: number;
  matched: number;
  /** Of the unmatched, those with only weak matches. */
  weak: number;
  unmatched: number;
  deadLettered: number;
  produced: number;
  scanSeconds: number;
  produceSeconds: number;
  commitSeconds: number;
  totalSeconds: number;
  /** highWatermark − next offset after this chunk. */
  lag: number;
  /** Each matched message's primary record, from the KB the chunk was processed with. */
  primaries: MatchedSignature[];
  /** The resource of each primary's event, parallel to `primaries` (metric labels). */
  primaryResources?: (EventResource | undefined)[];
  dlqReasons: DlqReason[];
  traceId?: string;
}

export interface PipelineObserver {
  batch(report: BatchReport): void;
  produceError(error: Error): void;
  state(change: Partial<ReadinessState>): void;
}

export interface ReadinessState {
  kbLoaded: boolean;
  consumerJoined: boolean;
  producerConnected: boolean;
  brokerReachable: boolean;
}

export const NO_OBSERVER: PipelineObserver = { batch: () => undefined, produceError: () => undefined, state: () => undefined };
