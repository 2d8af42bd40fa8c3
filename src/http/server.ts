/**
 * /metrics, /healthz, /readyz and the read-only lookup API:
 *   GET  /v1/signatures/{id}  the record: root cause, workarounds and dead ends with their ids, docs
 *   POST /v1/match            ranked matches for a text (JSON {"text": …} or text/plain); 422 with
 *                             code LOGSIFT_CONFIRM_TIMEOUT when the exact engine runs out of budget
 *   POST /v1/alertmanager     an Alertmanager webhook payload (v4) back with logsift's annotations
 *                             on the alerts it explains; also forwarded when alerts.forwardUrl is set
 *   GET  /v1/unmatched?limit=N the top templates of unmatched error lines, with draft records
 * No endpoint changes state. Every request is answered from inside one guard: a malformed, oversized,
 * slow or otherwise hostile request gets a 4xx (Node's parser answers 400/408/431 for what it rejects
 * itself), a failure of ours a 500 that is logged and counted; nothing a client sends ends the process.
 * `routes` splits the operational endpoints from the lookup API so each can get its own bind address.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';

import { WebhookPayloadSchema, enrichAlerts, type AlertForwarder } from '../alerts/index.js';
import { primaryOf, type Enricher } from '../enrich/index.js';
import { deadEndIds } from '../kb/index.js';
import { ExactBudgetError } from '../matcher/index.js';
import type { LogsiftMetrics } from '../telemetry/index.js';

export const MAX_MATCH_BODY_BYTES = 64 * 1024;
/** Alertmanager batches a group's alerts into one payload: room for a few hundred. */
export const MAX_ALERT_BODY_BYTES = 1024 * 1024;

export interface AlertRelayDeps {
  textLabels: readonly string[];
  /** Enriched payloads are also queued here; null answers only. */
  forwarder: AlertForwarder | null;
}

export interface HttpDeps {
  metrics: LogsiftMetrics;
  /** Current readiness components; all true means ready. */
  readiness: () => Record<string, boolean>;
  /** Why the process is not ready, shown in /readyz (e.g. the last Kafka start error). */
  notReadyReason?: () => string | null;
  enricher: () => Enricher | null;
  /** Which endpoints this listener serves. Default 'all'. */
  routes?: HttpRoutes;
  limits?: Partial<HttpLimits>;
  /** An unexpected handler failure (answered 500, counted in logsift_unexpected_errors_total): the owner logs it. */
  onError?: (err: unknown) => void;
  /** POST /v1/alertmanager; without it the route answers 404. */
  alerts?: AlertRelayDeps;
  /** The top `n` unmatched-error templates (absent: template mining is off). */
  unmatched?: (n: number) => unknown;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, body: unknown, contentType = 'application/json', headers: Record<string, string> = {}): void {
  const text = typeof body === 'string' ? body : `${JSON.stringify(body)}\n`;
  res.writeHead(status, { ...headers, 'content-type': contentType, 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

/** An error answer; the connection closes when the request body was not read to its end. */
function sendError(req: IncomingMessage, res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  send(res, status, { error: message }, 'application/json', req.complete ? headers : { ...headers, connection: 'close' });
}

/**
 * Reads the body up to `limit` bytes. Over the limit it answers 413 at once and discards the rest
 * (the connection then closes) rather than destroying the request, so the client gets its answer.
 */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > limit) return Promise.reject(new HttpError(413, `body over ${limit} bytes`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        req.resume();
        reject(new HttpError(413, `body over ${limit} bytes`));
      } else chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', (err) => reject(new HttpError(400, `request body: ${err.message}`)));
  });
}

function signatureView(enricher: Enricher, id: string): unknown {
  const kb = enricher.kb;
  const index = kb.indexOf(id);
  if (index === undefined) throw new HttpError(404, `no signature "${id}" in ${kb.version}`);
  const r = kb.records[index]!;
  const wIds = kb.workaroundIds(index);
  const dIds = deadEndIds(r);
  return {
    id: r.id,
    signature: r.signature,
    domain: r.domain,
    category: r.category,
    root_cause: r.root_cause,
    confidence: r.confidence ?? null,
    official_doc_url: r.official_doc_url ?? null,
    workarounds: r.workarounds.map((w, i) => ({ id: wIds[i], action: w.action, how: w.how ?? null, success_rate: w.success_rate ?? null, condition: w.condition ?? null })),
    dead_ends: r.dead_ends.map((d, i) => ({ id: dIds[i], action: d.action, why_fails: d.why_fails ?? null, fail_rate: d.fail_rate ?? null })),
    kb_version: kb.version,
  };
}

async function matchView(enricher: Enricher, req: IncomingMessage): Promise<unknown> {
  const body = await readBody(req, MAX_MATCH_BODY_BYTES);
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
  let text: string;
  if (type === 'application/json') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      throw new HttpError(400, 'body is not valid JSON');
    }
    const t = (parsed as { text?: unknown } | null)?.text;
    if (typeof t !== 'string') throw new HttpError(400, 'JSON body needs "text": string');
    text = t;
  } else if (type === 'text/plain' || type === '') {
    text = body.toString('utf8');
  } else throw new HttpError(415, 'send application/json {"text": …} or text/plain');
  const ranked = enricher.rankText(text);
  const kb = enricher.kb;
  const primary = primaryOf(ranked, enricher.minStrength);
  return {
    kb_version: kb.version,
    signature_id: primary ? kb.records[primary.index]!.id : null,
    strength: primary ? primary.strength : null,
    min_strength: enricher.minStrength,
    matches: ranked.map((m) => {
      const r = kb.records[m.index]!;
      return { id: r.id, strength: m.strength, weak: m.strength < enricher.minStrength, score: m.score, signature: r.signature, root_cause: r.root_cause, domain: r.domain, category: r.category, workaround_ids: kb.workaroundIds(m.index) };
    }),
  };
}

async function alertmanagerView(enricher: Enricher, req: IncomingMessage, deps: HttpDeps, relay: AlertRelayDeps): Promise<unknown> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
  if (type !== 'application/json') throw new HttpError(415, 'send the Alertmanager webhook payload as application/json');
  const body = await readBody(req, MAX_ALERT_BODY_BYTES);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new HttpError(400, 'body is not valid JSON');
  }
  const payload = WebhookPayloadSchema.safeParse(parsed);
  if (!payload.success) {
    const issue = payload.error.issues[0]!;
    throw new HttpError(400, `not an Alertmanager webhook payload (version 4): ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const result = enrichAlerts(payload.data, enricher, { textLabels: relay.textLabels });
  deps.metrics.alerts.inc({ outcome: 'enriched' }, result.enriched);
  deps.metrics.alerts.inc({ outcome: 'passed_through' }, result.passedThrough);
  relay.forwarder?.enqueue(result.payload);
  return result.payload;
}

/** Which endpoints a listener serves: everything, the operational ones, or the lookup API. */
export type HttpRoutes = 'all' | 'ops' | 'api';

/** Request limits. Every one ends a slow or oversized request with a 4xx instead of holding it. */
export interface HttpLimits {
  /** Longest request target (path and query), bytes; longer gets 414. Default 2048. */
  maxUrlBytes: number;
  /** Longest request head (request line and headers); larger gets 431 from Node. Default 16 KiB. */
  maxHeaderBytes: number;
  /** Time allowed to receive the request head; then 408 and the socket closes. Default 10 s. */
  headersTimeoutMs: number;
  /** Time allowed to receive the whole request; then 408. Default 30 s. */
  requestTimeoutMs: number;
  /** Idle keep-alive connections close after this. Default 5 s. */
  keepAliveTimeoutMs: number;
  /** Requests served on one connection before it is closed. Default 1000. */
  maxRequestsPerSocket: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  maxUrlBytes: 2048,
  maxHeaderBytes: 16 * 1024,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  maxRequestsPerSocket: 1000,
};

const READ_METHODS = ['GET', 'HEAD'];

/**
 * The decoded path segments of an origin-form request target, or an HttpError. No `new URL`: a
 * target such as `//` or `http://x` must be a 400, never an exception.
 */
export function parseTarget(target: string | undefined, maxUrlBytes: number): string[] {
  if (target === undefined || target === '') throw new HttpError(400, 'empty request target');
  if (Buffer.byteLength(target) > maxUrlBytes) throw new HttpError(414, `request target over ${maxUrlBytes} bytes`);
  if (!target.startsWith('/')) throw new HttpError(400, 'only origin-form request targets (starting with "/") are accepted');
  const end = target.search(/[?#]/);
  const raw = (end < 0 ? target : target.slice(0, end)).split('/').slice(1);
  return raw.map((segment) => {
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      throw new HttpError(400, 'malformed percent-encoding in the request target');
    }
    // `..`, `%2e%2e` and friends never name a resource here; refuse them instead of normalizing.
    if (decoded.split('/').some((part) => part === '.' || part === '..') || decoded.includes('\u0000')) throw new HttpError(400, 'dot segments and NUL are not allowed in the request target');
    return decoded;
  });
}

function allow(req: IncomingMessage, methods: readonly string[]): void {
  if (!methods.includes(req.method ?? '')) throw new HttpError(405, `${methods.join(' or ')} only`, { allow: methods.join(', ') });
}

async function route(deps: HttpDeps, routes: HttpRoutes, limits: HttpLimits, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const segments = parseTarget(req.url, limits.maxUrlBytes);
  const path = `/${segments.join('/')}`;
  const ops = routes !== 'api';
  const api = routes !== 'ops';
  if (ops && path === '/metrics') {
    allow(req, READ_METHODS);
    const om = /application\/openmetrics-text/.test(req.headers.accept ?? '');
    const { body, contentType } = await deps.metrics.expose(om);
    send(res, 200, body, contentType);
  } else if (ops && path === '/healthz') {
    allow(req, READ_METHODS);
    send(res, 200, { status: 'ok' });
  } else if (ops && path === '/readyz') {
    allow(req, READ_METHODS);
    const state = deps.readiness();
    const ready = Object.values(state).every(Boolean);
    const reason = ready ? null : (deps.notReadyReason?.() ?? null);
    send(res, ready ? 200 : 503, { ready, ...state, ...(reason !== null ? { reason } : {}) });
  } else if (api && segments.length >= 3 && segments[0] === 'v1' && segments[1] === 'signatures') {
    allow(req, READ_METHODS);
    const enricher = deps.enricher();
    if (!enricher) throw new HttpError(503, 'knowledge base not loaded yet');
    // Record ids contain slashes (`postgresql/too-many-clients`), sent raw or as %2F.
    send(res, 200, signatureView(enricher, segments.slice(2).join('/')));
  } else if (api && path === '/v1/match') {
    allow(req, ['POST']);
    const enricher = deps.enricher();
    if (!enricher) throw new HttpError(503, 'knowledge base not loaded yet');
    send(res, 200, await matchView(enricher, req));
  } else if (api && path === '/v1/alertmanager' && deps.alerts) {
    allow(req, ['POST']);
    const enricher = deps.enricher();
    if (!enricher) throw new HttpError(503, 'knowledge base not loaded yet');
    send(res, 200, await alertmanagerView(enricher, req, deps, deps.alerts));
  } else if (api && path === '/v1/unmatched') {
    allow(req, READ_METHODS);
    if (!deps.unmatched) throw new HttpError(404, 'template mining is off (suggest.enabled=false)');
    const q = req.url!.indexOf('?');
    const limit = Number(new URLSearchParams(q < 0 ? '' : req.url!.slice(q + 1)).get('limit') ?? '20');
    if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new HttpError(400, 'limit must be an integer from 1 to 500');
    send(res, 200, deps.unmatched(limit));
  } else throw new HttpError(404, 'no such route');
}

export function createHttpServer(deps: HttpDeps): Server {
  const routes = deps.routes ?? 'all';
  const limits = { ...DEFAULT_HTTP_LIMITS, ...deps.limits };
  const server = createServer(
    {
      maxHeaderSize: limits.maxHeaderBytes,
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      // How often Node checks the two timeouts above (its default, 30 s, would let them overrun).
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(limits.headersTimeoutMs / 2))),
    },
    (req, res) => {
      route(deps, routes, limits, req, res).catch((err: unknown) => {
        if (err instanceof HttpError) {
          sendError(req, res, err.status, err.message, err.headers);
          return;
        }
        if (err instanceof ExactBudgetError) {
          if (!res.headersSent) send(res, 422, { error: err.message, code: err.code, record_ids: err.recordIds });
          return;
        }
        // Not a bad request: a bug or a failing dependency. Counted here, logged by the owner.
        deps.metrics.unexpectedError('http');
        deps.onError?.(err);
        sendError(req, res, 500, 'internal error');
      });
    },
  );
  server.maxRequestsPerSocket = limits.maxRequestsPerSocket;
  // CONNECT has no handler in Node's request path: without this the socket would just hang up.
  server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
    socket.on('error', () => undefined);
    socket.end('HTTP/1.1 405 Method Not Allowed\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
  });
  return server;
}

export async function listen(server: Server, port: number, host: string): Promise<AddressInfo> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server.address() as AddressInfo;
}
