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

function pick(obj: Record<string, unknown>, map: Partial<Record<ResourceField, readonly string[]>>): EventResource {
  const r: EventResource = {};
  for (const f of RESOURCE_FIELDS) {
    for (const path of map[f] ?? []) {
      const v = clean(getField(obj, path));
      if (v !== undefined) {
        r[f] = v;
        break;
      }
    }
  }
  return r;
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

const KUBERNETES_PATHS: Partial<Record<ResourceField, readonly string[]>> = {
  // Fluent Bit and Filebeat: labels; Vector: pod_labels.
  'service.name': ['kubernetes.labels.app.kubernetes.io/name', 'kubernetes.pod_labels.app.kubernetes.io/name', 'kubernetes.labels.app', 'kubernetes.pod_labels.app'],
  // Fluent Bit: namespace_name; Vector: pod_namespace; Filebeat: namespace.
  'k8s.namespace.name': ['kubernetes.namespace_name', 'kubernetes.pod_namespace', 'kubernetes.namespace'],
  'k8s.pod.name': ['kubernetes.pod_name', 'kubernetes.pod.name'],
  'k8s.container.name': ['kubernetes.container_name', 'kubernetes.container.name'],
  'host.name': ['kubernetes.host', 'kubernetes.pod_node_name', 'kubernetes.node.name'],
};

const SHIPPER_PATHS: Partial<Record<ResourceField, readonly string[]>> = {
  'service.name': ['app-name', 'appname', 'programname', 'PROGRAM', 'app'],
  'host.name': ['host', 'hostname', 'HOST'],
};

/** A JSON log (any shipper's shape) → the normalized fields, sources 2–4 in order. */
export function resourceFromLog(log: Record<string, unknown>): EventResource {
  const r = pick(log, SEMCONV_PATHS);
  mergeResource(r, pick(log, KUBERNETES_PATHS));
  return mergeResource(r, pick(log, SHIPPER_PATHS));
}

export function isEmptyResource(r: EventResource | undefined): boolean {
  return r === undefined || Object.keys(r).length === 0;
}
