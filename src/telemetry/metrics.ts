/**
 * Prometheus metrics (prom-client). Implements the daemon's observer and the scan hook, so the flow
 * never imports prom-client. One OpenMetrics registry (exemplars need it); `expose()` renders either
 * format from it, one scrape at a time so the format switch never interleaves.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type OpenMetricsContentType } from 'prom-client';

import type { EventResource, ResourceField } from '../enrich/index.js';
import type { KnowledgeBase } from '../kb/index.js';
import type { BatchReport, MatchedSignature, PipelineObserver, ReadinessState } from '../kafka/observer.js';
import type { MatcherInfo } from '../matcher/index.js';

export interface MetricsOptions {
  /** false: logsift_signature_matches_total drops signature_id (aggregate by domain/category). */
  signatureLabel: boolean;
  /** Also export Node.js process metrics. Default true. */
  processMetrics?: boolean;
  /** Resource fields added as labels to logsift_signature_matches_total (`service.name` → `service_name`). Default none. */
  resourceLabels?: readonly ResourceField[];
  /** Distinct values per resource label; later new values count as `other`. Default 100. */
  labelValueLimit?: number;
  /** Called once per label the first time its value limit is reached (the shell logs it). */
  onLabelOverflow?: (label: string, limit: number) => void;
}

/** A resource field as a Prometheus label name. */
export function resourceLabelName(field: ResourceField): string {
  return field.replace(/[^a-zA-Z0-9_]/g, '_');
}

export const OTHER_LABEL_VALUE = 'other';

function openMetricsRegistry(): Registry<OpenMetricsContentType> {
  const r = new Registry<OpenMetricsContentType>();
  r.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  return r;
}

export const UNEXPECTED_SOURCES = ['unhandled_rejection', 'uncaught_exception', 'http'] as const;
export type UnexpectedSource = (typeof UNEXPECTED_SOURCES)[number];

const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class LogsiftMetrics implements PipelineObserver {
  readonly registry = openMetricsRegistry();
  private readonly registers = [this.registry as unknown as Registry];
  private exposing: Promise<unknown> = Promise.resolve();
  private kb: KnowledgeBase | null = null;
  /**
   * The label sets of the match series counted so far, by their label values joined (countMatches):
   * built once per series rather than per message, and what a reload reads to retire removed signatures.
   */
  private readonly seen = new Map<string, Record<string, string>>();

  readonly matches: Counter<string>;
  readonly labelOverflow = new Counter({ name: 'logsift_metric_label_overflow_total', help: 'Matches counted under the label value "other" because the label reached metrics.labelValueLimit distinct values.', labelNames: ['label'] as const, registers: this.registers });
  private readonly resourceLabels: readonly { field: ResourceField; name: string; values: Set<string>; overflowed: boolean }[];
  private readonly labelValueLimit: number;
  readonly messages = new Counter({ name: 'logsift_messages_total', help: 'Input messages by outcome (matched, unmatched, dead_lettered).', labelNames: ['outcome'] as const, registers: this.registers });
  readonly weakMatches = new Counter({
    name: 'logsift_weak_matches_total',
    help: 'Messages whose regex matches were all weaker than match.minStrength: no primary, counted as unmatched (no signature label).',
    registers: this.registers,
  });
  readonly alerts = new Counter({ name: 'logsift_alerts_total', help: 'Alerts received on POST /v1/alertmanager, by outcome (enriched, passed_through).', labelNames: ['outcome'] as const, registers: this.registers });
  readonly alertForwards = new Counter({ name: 'logsift_alert_forwards_total', help: 'Webhook payloads forwarded to alerts.forwardUrl, by result (delivered, failed after retries, dropped: queue full).', labelNames: ['result'] as const, registers: this.registers });
  readonly eventsProduced = new Counter({ name: 'logsift_events_produced_total', help: 'Records produced (events to the output and unmatched topics, and DLQ records).', registers: this.registers });
  readonly produceErrors = new Counter({ name: 'logsift_produce_errors_total', help: 'Failed deliveries (produce or commit); the batch is retried.', registers: this.registers });
  readonly deadLettered = new Counter({ name: 'logsift_dead_letter_messages_total', help: 'Messages sent to the dead-letter topic, by reason.', labelNames: ['reason'] as const, registers: this.registers });
  readonly scanDuration = new Histogram({ name: 'logsift_scan_duration_seconds', help: 'Time to scan, rank and encode one chunk of messages.', buckets: DURATION_BUCKETS, registers: this.registers });
  readonly batchDuration = new Histogram({ name: 'logsift_batch_duration_seconds', help: 'Time for one chunk from decode to committed offset.', buckets: DURATION_BUCKETS, enableExemplars: true, registers: this.registers });
  readonly scannedBytes = new Counter({ name: 'logsift_scanned_bytes_total', help: 'Bytes of message values scanned.', registers: this.registers });
  readonly lag = new Gauge({ name: 'logsift_consumer_lag_messages', help: 'Messages behind the high watermark, per input partition, after the last committed chunk.', labelNames: ['topic', 'partition'] as const, registers: this.registers });
  readonly commitDuration = new Histogram({ name: 'logsift_commit_duration_seconds', help: 'Offset commit latency.', buckets: DURATION_BUCKETS, registers: this.registers });
  readonly produceDuration = new Histogram({ name: 'logsift_produce_duration_seconds', help: 'Time until a chunk\'s records are acknowledged (acks=all).', buckets: DURATION_BUCKETS, registers: this.registers });
  readonly signatureInfo = new Gauge({ name: 'logsift_signature_info', help: 'One series per KB signature (value 1): root cause and workaround ids, for joins in alerts and dashboards.', labelNames: ['signature_id', 'domain', 'category', 'root_cause', 'workaround_ids'] as const, registers: this.registers });
  readonly kbInfo = new Gauge({ name: 'logsift_knowledge_base_info', help: 'The loaded knowledge base (value 1), by content-hash version.', labelNames: ['kb_version'] as const, registers: this.registers });
  readonly kbRecords = new Gauge({ name: 'logsift_knowledge_base_records', help: 'Records in the loaded knowledge base.', registers: this.registers });
  readonly kbPatterns = new Gauge({ name: 'logsift_knowledge_base_patterns', help: 'Records per compile class (native, prefilter, fallback, rejected).', labelNames: ['class'] as const, registers: this.registers });
  readonly kbBuildSeconds = new Gauge({ name: 'logsift_knowledge_base_build_seconds', help: 'Seconds the last KB load spent compiling, or loading the cached database.', labelNames: ['source'] as const, registers: this.registers });
  readonly kbReloads = new Counter({ name: 'logsift_knowledge_base_reloads_total', help: 'Knowledge-base (re)loads by result (success, failure).', labelNames: ['result'] as const, registers: this.registers });
  readonly kbLastReloadSuccess = new Gauge({ name: 'logsift_knowledge_base_last_reload_success', help: '1 if the last KB (re)load succeeded, else 0.', registers: this.registers });
  readonly kbDroppedRecords = new Gauge({ name: 'logsift_knowledge_base_dropped_records', help: 'Records left out of the loaded KB, by reason (filter: kb.include/kb.exclude; broad: kb.lint.maxBackgroundRate).', labelNames: ['reason'] as const, registers: this.registers });
  readonly unmatchedErrorLines = new Counter({ name: 'logsift_unmatched_error_lines_total', help: 'Unmatched error-looking messages mined into templates (GET /v1/unmatched).', registers: this.registers });
  readonly unmatchedTemplates = new Gauge({ name: 'logsift_unmatched_templates', help: 'Templates of unmatched error lines currently held (bounded by suggest.maxClusters).', registers: this.registers });
  readonly unexpectedErrors = new Counter({ name: 'logsift_unexpected_errors_total', help: 'Failures no code path expected (unhandled rejections, HTTP handler errors): each one is a bug, logged with its stack.', labelNames: ['source'] as const, registers: this.registers });
  readonly enrichmentThreads = new Gauge({
    name: 'logsift_enrichment_threads',
    help: 'Threads enriching the stream: the enrichment workers (match.workers), or 1 when the event loop enriches. rate(logsift_scan_duration_seconds_sum) divided by it is their busy share; near 1, enrichment holds the stream.',
    registers: this.registers,
  });
  readonly ready = new Gauge({ name: 'logsift_ready', help: 'Readiness components (1 ready, 0 not).', labelNames: ['component'] as const, registers: this.registers });

  constructor(private readonly options: MetricsOptions) {
    this.resourceLabels = (options.resourceLabels ?? []).map((field) => ({ field, name: resourceLabelName(field), values: new Set<string>(), overflowed: false }));
    this.labelValueLimit = options.labelValueLimit ?? 100;
    const labelNames = [...(options.signatureLabel ? ['signature_id'] : []), 'domain', 'category', ...this.resourceLabels.map((l) => l.name)];
    this.matches = new Counter({
      name: 'logsift_signature_matches_total',
      help: options.signatureLabel ? 'Messages whose primary match is this signature.' : 'Messages whose primary match is in this domain/category.',
      labelNames,
      enableExemplars: true,
      registers: this.registers,
    });
    for (const l of this.resourceLabels) this.labelOverflow.inc({ label: l.name }, 0);
    if (options.processMetrics ?? true) {
      collectDefaultMetrics({ register: this.registry });
      // Gauges named *_total fail `promtool check metrics`; the handle counts are not worth that.
      for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) this.registry.removeSingleMetric(name);
    }
    for (const outcome of ['matched', 'unmatched', 'dead_lettered']) this.messages.inc({ outcome }, 0);
    for (const outcome of ['enriched', 'passed_through']) this.alerts.inc({ outcome }, 0);
    for (const result of ['delivered', 'failed', 'dropped']) this.alertForwards.inc({ result }, 0);
    this.eventsProduced.inc(0);
    this.produceErrors.inc(0);
    for (const source of UNEXPECTED_SOURCES) this.unexpectedErrors.inc({ source }, 0);
  }

  /** The exposition in OpenMetrics (with exemplars) or the Prometheus text format. */
  expose(openMetrics: boolean): Promise<{ body: string; contentType: string }> {
    const run = async () => {
      const type = openMetrics ? Registry.OPENMETRICS_CONTENT_TYPE : Registry.PROMETHEUS_CONTENT_TYPE;
      // prom-client's OpenMetrics path renames counters in place (drops `_total`) and never renames
      // them back, which would break every later text exposition: restore the names afterwards.
      const names = this.registry.getMetricsAsArray().map((m) => [m, (m as unknown as { name: string }).name] as const);
      (this.registry as unknown as Registry<typeof type>).setContentType(type);
      try {
        return { body: await this.registry.metrics(), contentType: type };
      } finally {
        this.registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
        for (const [m, name] of names) (m as unknown as { name: string }).name = name;
      }
    };
    const next = this.exposing.then(run, run);
    this.exposing = next.catch(() => undefined);
    return next;
  }

  /** A new KB: info series, class counts, and retirement of signatures it no longer has. */
  setKnowledgeBase(kb: KnowledgeBase, info: MatcherInfo): void {
    const previous = this.kb;
    this.kb = kb;
    this.kbInfo.reset();
    this.kbInfo.set({ kb_version: kb.version }, 1);
    this.kbRecords.set(kb.size);
    // Bounded by the KB (one series per record); replaced wholesale, so removed records retire.
    this.signatureInfo.reset();
    if (this.options.signatureLabel) {
      kb.records.forEach((r, i) => {
        const rootCause = r.root_cause.length > 240 ? `${r.root_cause.slice(0, 239)}…` : r.root_cause;
        this.signatureInfo.set({ signature_id: r.id, domain: r.domain, category: r.category, root_cause: rootCause, workaround_ids: kb.workaroundIds(i).join(',') }, 1);
      });
    }
    for (const [cls, n] of Object.entries(info.patterns)) this.kbPatterns.set({ class: cls }, n);
    this.kbBuildSeconds.reset();
    this.kbBuildSeconds.set({ source: info.fromCache ? 'cache' : 'compile' }, info.buildSeconds);
    if (previous) {
      for (const [key, labels] of [...this.seen]) {
        const id = labels['signature_id'];
        const keep = id === undefined ? kb.records.some((r) => r.domain === labels['domain'] && r.category === labels['category']) : kb.get(id) !== undefined;
        if (!keep) {
          this.matches.remove(labels);
          this.seen.delete(key);
        }
      }
    }
  }

  kbDropped(counts: Record<string, number>): void {
    for (const [reason, n] of Object.entries(counts)) this.kbDroppedRecords.set({ reason }, n);
  }

  unmatchedMined(lines: number, templates: number): void {
    this.unmatchedErrorLines.inc(lines);
    this.unmatchedTemplates.set(templates);
  }

  /** How many threads enrich the stream (a KB generation's processor). */
  enrichment(threads: number): void {
    this.enrichmentThreads.set(threads);
  }

  kbReload(ok: boolean): void {
    this.kbReloads.inc({ result: ok ? 'success' : 'failure' });
    this.kbLastReloadSuccess.set(ok ? 1 : 0);
  }

  /** A resource label's value, capped: past the limit of distinct values, new ones are `other`. */
  private labelValue(l: (typeof this.resourceLabels)[number], resource: EventResource | undefined): string {
    const v = resource?.[l.field] ?? '';
    if (v === '' || l.values.has(v)) return v;
    if (l.values.size < this.labelValueLimit) {
      l.values.add(v);
      return v;
    }
    this.labelOverflow.inc({ label: l.name });
    if (!l.overflowed) {
      l.overflowed = true;
      this.options.onLabelOverflow?.(l.name, this.labelValueLimit);
    }
    return OTHER_LABEL_VALUE;
  }

  /**
   * Counts primary matches: they carry their records (id, domain, category) from the KB they were
   * matched with, so a reload between the scan and this call cannot count another signature. With
   * resource labels, by `resources[i]`, the i-th
   * primary's resource); exemplars carry the trace id when one is active.
   */
  countMatches(primaries: readonly MatchedSignature[], traceId?: string, resources?: readonly (EventResource | undefined)[]): void {
    if (primaries.length === 0) return;
    // Grouped by series first: one increment per series and chunk, with a label set built once per series.
    const counts = new Map<Record<string, string>, number>();
    const withResources = this.resourceLabels.length > 0;
    primaries.forEach((r, i) => {
      const values = withResources ? this.resourceLabels.map((l) => this.labelValue(l, resources?.[i])) : null;
      // Every label value is in the key (a reloaded record may have moved to another domain or category).
      const key = `${this.options.signatureLabel ? `${r.id}\u0000` : ''}${r.domain}\u0000${r.category}${values ? `\u0000${values.join('\u0000')}` : ''}`;
      let labels = this.seen.get(key);
      if (labels === undefined) {
        labels = this.options.signatureLabel ? { signature_id: r.id, domain: r.domain, category: r.category } : { domain: r.domain, category: r.category };
        for (let k = 0; k < this.resourceLabels.length; k++) labels[this.resourceLabels[k]!.name] = values![k]!;
        this.seen.set(key, labels);
      }
      counts.set(labels, (counts.get(labels) ?? 0) + 1);
    });
    const exemplar = traceId && !/^0+$/.test(traceId) ? { trace_id: traceId } : undefined;
    for (const [labels, value] of counts) this.matches.inc(exemplar ? { labels, value, exemplarLabels: exemplar } : { labels, value });
  }

  batch(r: BatchReport): void {
    this.countMatches(r.primaries, r.traceId, r.primaryResources);
    this.messages.inc({ outcome: 'matched' }, r.matched);
    this.messages.inc({ outcome: 'unmatched' }, r.unmatched);
    this.weakMatches.inc(r.weak);
    this.messages.inc({ outcome: 'dead_lettered' }, r.deadLettered);
    for (const reason of r.dlqReasons) this.deadLettered.inc({ reason });
    this.eventsProduced.inc(r.produced);
    this.scannedBytes.inc(r.bytes);
    this.scanDuration.observe(r.scanSeconds);
    this.produceDuration.observe(r.produceSeconds);
    this.commitDuration.observe(r.commitSeconds);
    const exemplar = r.traceId && !/^0+$/.test(r.traceId) ? { trace_id: r.traceId } : undefined;
    this.batchDuration.observe(exemplar ? { value: r.totalSeconds, exemplarLabels: exemplar } : { value: r.totalSeconds });
    this.lag.set({ topic: r.topic, partition: String(r.partition) }, r.lag);
  }

  /** For `logsift scan --http-port`: the same counters without Kafka. */
  scanBatch(b: { lines: number; bytes: number; seconds: number; primaries: MatchedSignature[]; weak: number; errors: number }): void {
    this.weakMatches.inc(b.weak);
    this.countMatches(b.primaries);
    this.messages.inc({ outcome: 'matched' }, b.primaries.length);
    this.messages.inc({ outcome: 'unmatched' }, b.lines - b.primaries.length);
    this.scannedBytes.inc(b.bytes);
    this.scanDuration.observe(b.seconds);
  }

  unexpectedError(source: UnexpectedSource): void {
    this.unexpectedErrors.inc({ source });
  }

  produceError(): void {
    this.produceErrors.inc();
  }

  state(change: Partial<ReadinessState>): void {
    for (const [k, v] of Object.entries(change)) this.ready.set({ component: k }, v ? 1 : 0);
  }
}
