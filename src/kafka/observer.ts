/**
 * What the daemon reports as it works. Telemetry implements it (Prometheus, tracing); the flow only
 * calls it, so it never imports a metrics SDK.
 */
import type { EventResource } from '../enrich/index.js';
import type { DlqReason } from './records.js';

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
  /** Record indexes of each message's primary match (matched messages only). */
  primaries: number[];
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
