/**
 * /metrics, /healthz, /readyz and the read-only lookup API:
 *   GET  /v1/signatures/{id}  the record: root cause, workarounds and dead ends with their ids, docs
 *   POST /v1/match            ranked matches for a text (JSON {"text": …} or text/plain); 422 with
 *                             code LOGSIFT_CONFIRM_TIMEOUT when the exact engine runs out of budget
 *   POST /v1/alertmanager     an Alertmanager webhook payload (v4) back with logsift's annotations
 *                             on the alerts it explains; also forwarded when alerts.forwardUrl is set
 *   GET  /v1/unmatched?limit=N the top templates of unmatched error lines, with draft records
 * No endpoint changes state.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

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
  enricher: () => Enricher | null;
  /** POST /v1/alertmanager; without it the route answers 404. */
  alerts?: AlertRelayDeps;
  /** The top `n` unmatched-error templates (absent: template mining is off). */
  unmatched?: (n: number) => unknown;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, body: unknown, contentType = 'application/json'): void {
  const text = typeof body === 'string' ? body : `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > limit) throw new HttpError(413, `body over ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new HttpError(413, `body over ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
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

export function createHttpServer(deps: HttpDeps): Server {
  return createServer((req, res) => {
    void (async () => {
      try {
        // Inside the guard: a request target `new URL` rejects must cost a 400, not the process.
        let url: URL;
        try {
          url = new URL(req.url ?? '/', 'http://localhost');
        } catch {
          throw new HttpError(400, 'invalid request target');
        }
        const path = url.pathname;
        if (path === '/metrics') {
          if (req.method !== 'GET') throw new HttpError(405, 'GET only');
          const om = /application\/openmetrics-text/.test(req.headers.accept ?? '');
          const { body, contentType } = await deps.metrics.expose(om);
          send(res, 200, body, contentType);
        } else if (path === '/healthz') {
          send(res, 200, { status: 'ok' });
        } else if (path === '/readyz') {
          const state = deps.readiness();
          const ready = Object.values(state).every(Boolean);
          send(res, ready ? 200 : 503, { ready, ...state });
        } else if (path.startsWith('/v1/signatures/')) {
          if (req.method !== 'GET') throw new HttpError(405, 'GET only');
          const enricher = deps.enricher();
          if (!enricher) throw new HttpError(503, 'knowledge base not loaded yet');
          send(res, 200, signatureView(enricher, decodeURIComponent(path.slice('/v1/signatures/'.length))));
        } else if (path === '/v1/match') {
          if (req.method !== 'POST') throw new HttpError(405, 'POST only');
          const enricher = deps.enricher();
          if (!enricher) throw new HttpError(503, 'knowledge base not loaded yet');
          send(res, 200, await matchView(enricher, req));
        } else if (path === '/v1/alertmanager' && deps.alerts) {
          if (req.method !== 'POST') throw new HttpError(405, 'POST only');
          const enricher = deps.enricher();
          if (!enricher) throw new HttpError(503, 'knowledge base not loaded yet');
          send(res, 200, await alertmanagerView(enricher, req, deps, deps.alerts));
        } else if (path === '/v1/unmatched') {
          if (req.method !== 'GET') throw new HttpError(405, 'GET only');
          if (!deps.unmatched) throw new HttpError(404, 'template mining is off (suggest.enabled=false)');
          const limit = Number(url.searchParams.get('limit') ?? '20');
          if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new HttpError(400, 'limit must be an integer from 1 to 500');
          send(res, 200, deps.unmatched(limit));
        } else throw new HttpError(404, `no route ${path}`);
      } catch (err) {
        if (err instanceof HttpError) send(res, err.status, { error: err.message });
        else if (err instanceof ExactBudgetError) send(res, 422, { error: err.message, code: err.code, record_ids: err.recordIds });
        else send(res, 500, { error: 'internal error' });
      }
    })();
  });
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
