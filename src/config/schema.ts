/**
 * The one configuration schema. User-facing values (`'30s'`, `'64MiB'`) are validated and compiled
 * to numbers here; every field's default is documented next to it.
 */
import { z } from 'zod';

import { DEFAULT_MESSAGE_FIELDS, DEFAULT_MIN_STRENGTH, RESOURCE_FIELDS, type IncludeLog } from '../enrich/index.js';
import { zstdAvailable } from '../kafka/zstd.js';
import { filterTermProblem } from '../kb/filter.js';
import { DEFAULT_ERROR_KEYWORDS, DEFAULT_ERROR_LEVELS } from '../suggest/error-lines.js';

const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/;
const SIZE = /^(\d+(?:\.\d+)?)\s*(B|KiB|MiB|GiB|KB|MB|GB)?$/;

/** '250ms' | '30s' | '5m' | '1h' | 1500 (ms) → milliseconds. */
export const duration = z.union([z.number().nonnegative(), z.string()]).transform((v, ctx) => {
  if (typeof v === 'number') return v;
  const m = DURATION.exec(v.trim());
  if (!m) {
    ctx.addIssue({ code: 'custom', message: `not a duration: "${v}" (use e.g. 500ms, 30s, 5m)` });
    return z.NEVER;
  }
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 'ms') as 'ms' | 's' | 'm' | 'h'];
  return Math.round(Number(m[1]) * unit);
});

/** '64MiB' | '1MB' | 1048576 (bytes) → bytes. */
export const byteSize = z.union([z.number().int().positive(), z.string()]).transform((v, ctx) => {
  if (typeof v === 'number') return v;
  const m = SIZE.exec(v.trim());
  if (!m) {
    ctx.addIssue({ code: 'custom', message: `not a size: "${v}" (use e.g. 512KiB, 64MiB)` });
    return z.NEVER;
  }
  const unit = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, KB: 1000, MB: 1000 ** 2, GB: 1000 ** 3 }[(m[2] ?? 'B') as 'B'];
  return Math.round(Number(m[1]) * unit);
});

const secret = z.string().min(1);

/** `domain:NAME`, `category:NAME` or `id:GLOB` (see src/kb/filter.ts). */
const filterTerm = z.string().superRefine((v, ctx) => {
  const problem = filterTermProblem(v);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

export const ConfigSchema = z
  .object({
    kafka: z
      .object({
        /** Bootstrap servers, host:port. Required. */
        brokers: z.array(z.string().regex(/^[^\s:]+:\d+$/, 'must be host:port')).min(1),
        /** Client id sent to the brokers. Default 'logsift'. */
        clientId: z.string().min(1).default('logsift'),
        /** Default 10s. */
        connectionTimeout: duration.default(10_000),
        /** Default 30s. */
        requestTimeout: duration.default(30_000),
        /** Readiness reports the broker unreachable after this long without a successful fetch. Default 10s. */
        unreachableAfter: duration.default(10_000),
        /**
         * Until the producer and the consumer group first start, logsift retries (not ready, with the
         * reason in /readyz); past this it exits with code 3. Once started it never exits for a
         * broker outage. Default 60s.
         */
        startTimeout: duration.default(60_000),
        ssl: z
          .object({
            /** Default false. */
            enabled: z.boolean().default(false),
            /** PEM files; read at start. */
            caFile: z.string().optional(),
            certFile: z.string().optional(),
            keyFile: z.string().optional(),
            /** Default true. */
            rejectUnauthorized: z.boolean().default(true),
          })
          .prefault({}),
        /** Omit for no SASL. */
        sasl: z
          .object({
            mechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']),
            username: z.string().min(1),
            /** The password, or `passwordFile` (preferred: a mounted secret). Never logged. */
            password: secret.optional(),
            passwordFile: z.string().optional(),
          })
          .refine((s) => (s.password === undefined) !== (s.passwordFile === undefined), {
            message: 'set exactly one of password and passwordFile',
          })
          .optional(),
      })
      .strict(),
    input: z
      .object({
        /** Topics to consume; or `topicPattern`. */
        topics: z.array(z.string().min(1)).default([]),
        /** A regular expression of topic names (JavaScript syntax), instead of `topics`. */
        topicPattern: z.string().optional(),
        /** Consumer group. Default 'logsift'. */
        groupId: z.string().min(1).default('logsift'),
        /** With no committed offset, start at the beginning (true) or the end. Default true. */
        fromBeginning: z.boolean().default(true),
        /**
         * auto: JSON objects are JSON logs, syslog lines are scanned after their header, the rest raw
         * text; OTLP is recognized by a `content-type: application/x-protobuf` header or a JSON object
         * starting with "resourceLogs". raw: never parse; json: must be JSON (else DLQ); otlp_json /
         * otlp_proto: every message is an OTLP ExportLogsServiceRequest, one event per log record
         * (else DLQ). Default auto.
         */
        format: z.enum(['auto', 'raw', 'json', 'otlp_json', 'otlp_proto']).default('auto'),
        /** JSON log fields that are scanned. Default: message, msg, log, error.message, … */
        fields: z.array(z.string().min(1)).min(1).default([...DEFAULT_MESSAGE_FIELDS]),
        /** Larger messages go to the DLQ. Default 1MiB. */
        maxMessageBytes: byteSize.default(1024 * 1024),
        /** kafkajs sessionTimeout. Default 30s. */
        sessionTimeout: duration.default(30_000),
        /** kafkajs heartbeatInterval. Default 3s. */
        heartbeatInterval: duration.default(3_000),
      })
      .strict()
      .refine((i) => i.topics.length > 0 || i.topicPattern !== undefined, { message: 'set input.topics or input.topicPattern' }),
    output: z
      .object({
        /** Topic for enriched events of matched messages. Required. */
        topic: z.string().min(1),
        /** Events of unmatched messages go here; null drops them (counted). Default null. */
        unmatchedTopic: z.string().min(1).nullable().default(null),
        /** Poison messages go here untouched, with reason headers. Default `<topic>.dlq`. */
        dlqTopic: z.string().min(1).nullable().default(null),
        /** Output key: the input key (per-key order kept), the signature id, or none. Default input. */
        key: z.enum(['input', 'signature', 'none']).default('input'),
        /** Compression of produced batches: gzip, or zstd (Node's zlib; also read on input). Default none. */
        compression: z
          .enum(['none', 'gzip', 'zstd'])
          .default('none')
          .refine((c) => c !== 'zstd' || zstdAvailable(), { message: 'zstd needs Node.js 22.15 or later (zlib.zstdCompress)' }),
        /**
         * The event's `log` (the original message): true (default), truncated (8 levels, 1 KiB of
         * JSON, marked), or false (left out: events about a third of the size). Env: true|false|truncated.
         */
        includeLog: z
          .union([z.boolean(), z.enum(['true', 'false', 'truncated'])])
          .default(true)
          .transform((v): IncludeLog => (v === true || v === 'true' ? 'full' : v === false || v === 'false' ? 'none' : 'truncated')),
      })
      .strict()
      .transform((o) => ({ ...o, dlqTopic: o.dlqTopic ?? `${o.topic}.dlq` })),
    delivery: z
      .object({
        /**
         * at-least-once: idempotent producer, acks=all, contiguous commits after acknowledgement.
         * exactly-once: each chunk's records and input offsets in one Kafka transaction. Default at-least-once.
         */
        mode: z.enum(['at-least-once', 'exactly-once']).default('at-least-once'),
        /**
         * exactly-once: transactional ids are `<prefix>-<input topic>-<partition>`, the same on every
         * instance of a deployment (that is what fences a zombie). Default `logsift-<input.groupId>`.
         */
        transactionalIdPrefix: z.string().min(1).nullable().default(null),
        /** Messages scanned and produced per step. Default 5000 (bench:pipeline: 53% → 70% of a pass-through vs 2000). */
        maxBatchMessages: z.number().int().positive().default(5000),
        /**
         * Partitions processed at once (each one chunk in flight). With readAhead, the chunks in flight
         * (being enriched or delivered) across partitions. Default 8.
         */
        maxInFlightBatches: z.number().int().positive().default(8),
        /**
         * at-least-once: a fetched batch is handed back to kafkajs once its chunks are queued, not once they
         * are delivered, so the next fetch overlaps the last chunks' enrichment and delivery (kafkajs fetches
         * again only when every batch of a fetch has been handed back). Each partition's chunks are still
         * delivered and committed in order. Default true; exactly-once always waits.
         */
        readAhead: z.boolean().default(true),
        /** Fetch bytes per partition, which bounds the bytes in flight. Default 4MiB. */
        maxBytesPerPartition: byteSize.default(4 * 1024 * 1024),
        /** Bytes one fetch request asks a broker for, across its partitions (kafkajs maxBytes). Default 10MiB. */
        maxFetchBytes: byteSize.default(10 * 1024 * 1024),
        /**
         * at-least-once group commit: chunks of other partitions that are ready while a produce request
         * is in flight go out together, one produce request and one offset commit, up to this many bytes
         * of keys and values (a chunk larger alone goes alone). Keep it under the topic's
         * max.message.bytes. 0 = one request per chunk. Default 1MiB.
         */
        maxRequestBytes: z.union([z.literal(0), byteSize]).default(1024 * 1024),
      })
      .strict()
      .prefault({}),
    match: z
      .object({
        /**
         * Matches weaker than this (match strength in [0, 1]: how much of the record's signature the
         * message shows) never become the primary; a message with only weak matches is unmatched for
         * routing and metrics. 0 restores pure regex semantics. Default 0.5 (calibrated: README).
         */
        minStrength: z.number().min(0).max(1).default(DEFAULT_MIN_STRENGTH),
        /**
         * Time budget of one message's exact-engine work (the JavaScript RegExps that confirm prefilter
         * candidates, run fallback records and break ranking ties), enforced in a worker thread. A
         * message over it goes to the DLQ with LOGSIFT_CONFIRM_TIMEOUT. Default 50ms.
         */
        exactBudget: duration.refine((v) => v > 0, { message: 'must be positive' }).default(50),
        /**
         * Enrichment worker threads of `logsift run`: decode, scan, rank and encode run on them, so the
         * event loop keeps fetching, producing and committing meanwhile. 0 = on the event loop. Default
         * (null): the available cores minus one, at least 1 and at most 4. The shadow KB (kb.shadow)
         * and kb.cacheDir: null run on the event loop.
         */
        workers: z.number().int().min(0).max(64).nullable().default(null),
        /**
         * The most V8's young generation (the nursery of short-lived objects) may take in each
         * enrichment worker. Node sizes it from the memory the process may use: 18 MiB in a 768 MiB
         * pod, but 96 MiB on a host with 24 GiB, where a catch-up then peaked 65–80 MiB higher, the
         * throughput inside the rounds' spread (bench:pipeline; README, "Memory in a pod"). Never raises
         * Node's own size; null leaves it to Node. Default 16MiB.
         */
        workerYoungGeneration: byteSize.nullable().default(16 * 1024 * 1024),
      })
      .strict()
      .prefault({}),
    kb: z
      .object({
        /** KB files or directories. Default: the starter KB shipped in data/kb. */
        paths: z.array(z.string().min(1)).default([]),
        /** Load the valid records and report invalid ones. Default false. */
        allowInvalid: z.boolean().default(false),
        /** Default true (deadends.dev semantics). */
        ignoreCase: z.boolean().default(true),
        /** Compiled-database cache; null disables. Default ~/.cache/logsift. */
        cacheDir: z.string().nullable().optional(),
        /** `logsift run`: reload when a file under `paths` changes (polled; follows symlinks). Default true. */
        watch: z.boolean().default(true),
        /** Quiet time after the last change before reloading. Default 2s. */
        watchDebounce: duration.default(2_000),
        /** Candidate KB scanned beside the live one; differences are reported, the output is unchanged. Default none. */
        shadow: z.array(z.string().min(1)).default([]),
        /** Fraction of messages the shadow KB scans (sampled per message). Default 1. */
        shadowSample: z.number().min(0).max(1).default(1),
        /** Keep only records matching one of these terms (domain:python, category:network_error, id:docker/*). Default [] (all). */
        include: z.array(filterTerm).default([]),
        /** Drop records matching any of these terms; exclude wins over include. Default []. */
        exclude: z.array(filterTerm).default([]),
        lint: z
          .object({
            /** Normal-operation log files (lines) that broad records are measured on. Default []. */
            background: z.array(z.string().min(1)).default([]),
            /** Drop records matching more than this share of the background lines at load time (logged, counted). Default null (keep all). */
            maxBackgroundRate: z.number().min(0).max(1).nullable().default(null),
          })
          .strict()
          .prefault({})
          .refine((l) => l.maxBackgroundRate === null || l.background.length > 0, { message: 'kb.lint.maxBackgroundRate needs kb.lint.background files' }),
      })
      .strict()
      .prefault({}),
    suggest: z
      .object({
        /** Mine unmatched error-looking messages into templates (GET /v1/unmatched). Default true. */
        enabled: z.boolean().default(true),
        /** Level words that make a line error-looking (case-sensitive, whole word). Default ERROR, FATAL, CRITICAL, SEVERE, panic, … */
        levels: z.array(z.string().min(1)).default([...DEFAULT_ERROR_LEVELS]),
        /** Keywords that make a line error-looking (case-insensitive, at a word start). Default exception, error, failed, … */
        keywords: z.array(z.string().min(1)).default([...DEFAULT_ERROR_KEYWORDS]),
        /** Most templates kept; the least recently seen one is evicted beyond it. Default 1000. */
        maxClusters: z.number().int().positive().default(1000),
        /** Share of equal tokens for a line to join a template. Default 0.4. */
        similarity: z.number().gt(0).max(1).default(0.4),
      })
      .strict()
      .prefault({}),
    http: z
      .object({
        /** Serve /metrics, /healthz, /readyz and the lookup API. Default true. */
        enabled: z.boolean().default(true),
        /** Default 9464; 0 picks a free port (logged). */
        port: z.number().int().min(0).max(65535).default(9464),
        /** Default 0.0.0.0: the kubelet's probes and Prometheus must reach it. */
        host: z.string().default('0.0.0.0'),
        /** The lookup API (/v1/signatures, /v1/match). */
        api: z
          .object({
            /** Serve it at all. Default true. */
            enabled: z.boolean().default(true),
            /** null: on the `http.port` listener; a number: its own listener (0 picks a free port). Default null. */
            port: z.number().int().min(0).max(65535).nullable().default(null),
            /** Bind address of its own listener. Default 127.0.0.1 (reach it with a port-forward or a sidecar). */
            host: z.string().default('127.0.0.1'),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    alerts: z
      .object({
        /** Label names whose values are matched along with an alert's description/summary/message. Default [reason]. */
        textLabels: z.array(z.string().min(1)).default(['reason']),
        /** POST /v1/alertmanager also forwards each enriched payload here; null: only answer it. Default null. */
        forwardUrl: z.url().nullable().default(null),
        /** Per forward attempt. Default 5s. */
        forwardTimeout: duration.default(5_000),
        /** Retries after a failed forward. Default 3. */
        forwardRetries: z.number().int().min(0).max(10).default(3),
        /** Payloads waiting to be forwarded; more are dropped (counted). Default 100. */
        forwardQueueSize: z.number().int().positive().default(100),
      })
      .strict()
      .prefault({}),
    metrics: z
      .object({
        /** false drops the signature_id label (aggregate by domain/category). Default true. */
        signatureLabel: z.boolean().default(true),
        /**
         * Event resource fields added as labels to logsift_signature_matches_total, e.g.
         * [service.name, k8s.namespace.name] (label names service_name, k8s_namespace_name). An
         * allowlist: each label multiplies the series. Default none.
         */
        labels: z.array(z.enum(RESOURCE_FIELDS)).default([]),
        /** Distinct values kept per label; later new values are counted as "other" (logged once, logsift_metric_label_overflow_total). Default 100. */
        labelValueLimit: z.number().int().positive().default(100),
      })
      .strict()
      .prefault({}),
    /** Time allowed to finish in-flight work, commit and leave the group on SIGTERM. Default 30s. */
    shutdownGracePeriod: duration.default(30_000),
    log: z
      .object({
        /** Default info. */
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type ConfigInput = z.input<typeof ConfigSchema>;
export type Config = z.output<typeof ConfigSchema>;

/**
 * `match.workerYoungGeneration` as a worker's `maxYoungGenerationSizeMb`, or undefined for Node's own
 * size. Node gives a worker a young generation of 3/128 of the memory the process may use
 * (`memoryBytes`: its cgroup's limit, else the host's memory), at most 96 MiB: measured on Node 26,
 * 6, 12, 18 and 36 MiB in 256, 512, 768 and 1,536 MiB cgroups, 96 on a 24 GiB host. The setting only
 * ever lowers that.
 */
export function workerYoungGenerationMb(config: Config, memoryBytes: number): number | undefined {
  const cap = config.match.workerYoungGeneration;
  if (cap === null) return undefined;
  const mib = 1024 * 1024;
  const nodeOwn = Math.min(96, Math.floor((3 * memoryBytes) / 128 / mib));
  const capMb = Math.max(1, Math.floor(cap / mib));
  return capMb < nodeOwn ? capMb : undefined;
}

/** `match.workers`, resolved: null (auto) is the available cores minus one, at least 1 and at most 4. */
export function enrichWorkers(config: Config, cores: number): number {
  return config.match.workers ?? Math.max(1, Math.min(4, cores - 1));
}
