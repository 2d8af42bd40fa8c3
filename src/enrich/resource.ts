/**
 * Where an error happened: the event's `resource`, normalized from whatever the input carries.
 * Pure. Precedence, per field (the first source that has a non-empty value wins):
 *   1. OTLP resource attributes (otlp_json / otlp_proto input);
 *   2. OpenTelemetry / ECS fields in a JSON log: `service.name`, `service.namespace`,
 *      `service.environment` (ECS) or `deployment.environment`, `host.name`, `host.hostname`,
 *      `resource.attributes.*` (dotted keys or nested objects);
 *   3. Kubernetes metadata added by shippers: Fluent Bit's kubernetes filter (`kubernetes.namespace_name`,
 *      `pod_name`, `container_name`, `host`, `labels`), Vector's kubernetes_logs (`pod_namespace`,
 *      `pod_node_name`, `pod_labels`), Filebeat's add_kubernetes_metadata (`kubernetes.namespace`, `pod.name`,
 *      `container.name`, `node.name`); service.name from the `app.kubernetes.io/name` or `app` label;
 *   4. shipper host and program fields: Vector's `host`, rsyslog/syslog-ng JSON templates (`host`,
 *      `hostname`, `HOST`; `app-name`, `programname`, `PROGRAM`);
 *   5. the syslog header of a raw RFC 5424 / RFC 3164 line (hostname, app name).
 */
import { getField } from './extract.js';

export const RESOURCE_FIELDS = [
  'service.name',
  'service.namespace',
  'k8s.namespace.name',
  'k8s.pod.name',
  'k8s.container.name',
  'host.name',
  'deployment.environment',
] as const;

export type ResourceField = (typeof RESOURCE_FIELDS)[number];
export type EventResource = Partial<Record<ResourceField, string>>;

/** Values longer than this are cut: they become metric labels and event fields. */
const MAX_VALUE_LENGTH = 256;

function clean(v: unknown): string | undefined {
  if (typeof v !== 'string' && typeof v !== 'number') return undefined;
  const s = String(v).trim();
  if (s === '' || s === '-') return undefined;
  return s.length > MAX_VALUE_LENGTH ? s.slice(0, MAX_VALUE_LENGTH) : s;
}

/** Fills the fields `into` does not have yet from `from` (earlier sources win). */
export function mergeResource(into: EventResource, from: EventResource): EventResource {
  for (const f of RESOURCE_FIELDS) {
    if (into[f] === undefined && from[f] !== undefined) into[f] = from[f];
  }
  return into;
}

const headOf = (path: string): string => {
  const dot = path.indexOf('.');
  return dot < 0 ? path : path.slice(0, dot);
};

type Compiled = readonly { field: ResourceField; paths: readonly { path: string; head: string }[] }[];

/** Paths with their first segment, computed once: a path resolves only if its head is a top-level key's head. */
function compile(map: Partial<Record<ResourceField, readonly string[]>>): Compiled {
  return RESOURCE_FIELDS.map((field) => ({ field, paths: (map[field] ?? []).map((path) => ({ path, head: headOf(path) })) })).filter((c) => c.paths.length > 0);
}

function pick(obj: Record<string, unknown>, compiled: Compiled, present: ReadonlySet<string>, into: EventResource): void {
  for (const { field, paths } of compiled) {
    if (into[field] !== undefined) continue;
    for (const { path, head } of paths) {
      if (!present.has(head)) continue;
      const v = clean(getField(obj, path));
      if (v !== undefined) {
        into[field] = v;
        break;
      }
    }
  }
}

/** OTLP resource attributes (already flattened to a string map) → the normalized fields. */
export function resourceFromAttributes(attributes: Readonly<Record<string, unknown>>): EventResource {
  const r: EventResource = {};
  for (const f of RESOURCE_FIELDS) {
    const v = clean(attributes[f] ?? (f === 'deployment.environment' ? attributes['deployment.environment.name'] : undefined));
    if (v !== undefined) r[f] = v;
  }
  return r;
}

const SEMCONV_PATHS: Partial<Record<ResourceField, readonly string[]>> = {
  'service.name': ['service.name', 'resource.attributes.service.name', 'resource.service.name'],
  'service.namespace': ['service.namespace', 'resource.attributes.service.namespace', 'resource.service.namespace'],
  'k8s.namespace.name': ['k8s.namespace.name', 'resource.attributes.k8s.namespace.name'],
  'k8s.pod.name': ['k8s.pod.name', 'resource.attributes.k8s.pod.name'],
  'k8s.container.name': ['k8s.container.name', 'resource.attributes.k8s.container.name'],
  'host.name': ['host.name', 'host.hostname', 'resource.attributes.host.name'],
  'deployment.environment': ['deployment.environment', 'deployment.environment.name', 'service.environment', 'resource.attributes.deployment.environment'],
};

/** Shippers nest these as objects (label names keep their dots), so they are walked segment by segment. */
const KUBERNETES_PATHS: Partial<Record<ResourceField, readonly (readonly string[])[]>> = {
  // Fluent Bit and Filebeat: labels; Vector: pod_labels.
  'service.name': [
    ['labels', 'app.kubernetes.io/name'],
    ['pod_labels', 'app.kubernetes.io/name'],
    ['labels', 'app'],
    ['pod_labels', 'app'],
  ],
  // Fluent Bit: namespace_name; Vector: pod_namespace; Filebeat: namespace.
  'k8s.namespace.name': [['namespace_name'], ['pod_namespace'], ['namespace'], ['namespace', 'name']],
  'k8s.pod.name': [['pod_name'], ['pod', 'name']],
  'k8s.container.name': [['container_name'], ['container', 'name']],
  'host.name': [['host'], ['pod_node_name'], ['node', 'name']],
};

function walk(obj: unknown, segments: readonly string[]): unknown {
  let cur = obj;
  for (const s of segments) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[s];
  }
  return cur;
}

function pickKubernetes(k8s: unknown): EventResource {
  const r: EventResource = {};
  if (k8s === null || typeof k8s !== 'object') return r;
  for (const f of RESOURCE_FIELDS) {
    for (const segments of KUBERNETES_PATHS[f] ?? []) {
      const v = clean(walk(k8s, segments));
      if (v !== undefined) {
        r[f] = v;
        break;
      }
    }
  }
  return r;
}

const SHIPPER_PATHS: Partial<Record<ResourceField, readonly string[]>> = {
  'service.name': ['app-name', 'appname', 'programname', 'PROGRAM', 'app'],
  'host.name': ['host', 'hostname', 'HOST'],
};

const SEMCONV = compile(SEMCONV_PATHS);
const SHIPPER = compile(SHIPPER_PATHS);
/** Every top-level head any source reads: a log with none of them has no resource (the common case, fast). */
const KNOWN_HEADS = new Set([...SEMCONV, ...SHIPPER].flatMap((c) => c.paths.map((p) => p.head)).concat('kubernetes'));

/** A JSON log (any shipper's shape) → the normalized fields, sources 2–4 in order. */
export function resourceFromLog(log: Record<string, unknown>): EventResource {
  const r: EventResource = {};
  let present: Set<string> | null = null;
  for (const k in log) {
    const head = headOf(k);
    if (KNOWN_HEADS.has(head)) (present ??= new Set()).add(head);
  }
  if (present === null) return r;
  pick(log, SEMCONV, present, r);
  if (present.has('kubernetes')) mergeResource(r, pickKubernetes(log['kubernetes']));
  pick(log, SHIPPER, present, r);
  return r;
}

export function isEmptyResource(r: EventResource | undefined): boolean {
  return r === undefined || Object.keys(r).length === 0;
}
