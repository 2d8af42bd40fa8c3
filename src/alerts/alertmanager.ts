/**
 * Enriching alerts that come from elsewhere: Alertmanager's webhook payload (version 4) in, the same
 * payload out with logsift's annotations on each alert whose text matches the KB. Pure: takes the
 * enricher, no I/O, no clock.
 *
 * An alert's text is its `description`, `summary` and `message` annotations plus the values of the
 * configured labels (kube-state-metrics puts `CrashLoopBackOff` in `reason`), one per line.
 */
import { z } from 'zod';

import { primaryOf, type Enricher } from '../enrich/index.js';

/** Annotations logsift adds; never present on an alert it did not enrich. */
export const ALERT_ANNOTATIONS = {
  signatureId: 'logsift_signature_id',
  rootCause: 'logsift_root_cause',
  workaroundIds: 'logsift_workaround_ids',
  strength: 'logsift_strength',
} as const;

const TEXT_ANNOTATIONS = ['description', 'summary', 'message'] as const;

const stringMap = z.record(z.string(), z.string());

/** Alertmanager's webhook payload, version 4; unknown fields are kept as they are. */
export const WebhookPayloadSchema = z.looseObject({
  version: z.literal('4'),
  status: z.string().optional(),
  receiver: z.string().optional(),
  groupKey: z.string().optional(),
  alerts: z.array(
    z.looseObject({
      status: z.string().optional(),
      labels: stringMap.default({}),
      annotations: stringMap.default({}),
    }),
  ),
});

export type WebhookPayload = z.output<typeof WebhookPayloadSchema>;

export interface AlertEnrichOptions {
  /** Label names whose values are matched too. */
  textLabels: readonly string[];
}

export interface AlertEnrichResult {
  payload: WebhookPayload;
  enriched: number;
  passedThrough: number;
}

/** The text of one alert that is matched against the KB. */
export function alertText(alert: WebhookPayload['alerts'][number], textLabels: readonly string[]): string {
  const parts: string[] = [];
  for (const a of TEXT_ANNOTATIONS) {
    const v = alert.annotations[a];
    if (v !== undefined && v !== '') parts.push(v);
  }
  for (const l of textLabels) {
    const v = alert.labels[l];
    if (v !== undefined && v !== '') parts.push(v);
  }
  return parts.join('\n');
}

/**
 * Adds logsift's annotations to each alert whose text has a primary match (strength at least the
 * enricher's minimum). Alerts without one pass through untouched: the same object, byte for byte.
 */
export function enrichAlerts(payload: WebhookPayload, enricher: Enricher, options: AlertEnrichOptions): AlertEnrichResult {
  let enriched = 0;
  const kb = enricher.kb;
  const alerts = payload.alerts.map((alert) => {
    const text = alertText(alert, options.textLabels);
    const primary = text === '' ? null : primaryOf(enricher.rankText(text), enricher.minStrength);
    if (!primary) return alert;
    enriched++;
    const record = kb.records[primary.index]!;
    return {
      ...alert,
      annotations: {
        ...alert.annotations,
        [ALERT_ANNOTATIONS.signatureId]: record.id,
        [ALERT_ANNOTATIONS.rootCause]: record.root_cause,
        [ALERT_ANNOTATIONS.workaroundIds]: kb.workaroundIds(primary.index).join(','),
        [ALERT_ANNOTATIONS.strength]: String(primary.strength),
      },
    };
  });
  return { payload: { ...payload, alerts }, enriched, passedThrough: payload.alerts.length - enriched };
}
