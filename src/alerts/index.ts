export { ALERT_ANNOTATIONS, WebhookPayloadSchema, alertText, enrichAlerts, type AlertEnrichOptions, type AlertEnrichResult, type WebhookPayload } from './alertmanager.js';
export { AlertForwarder, type ForwardResult, type ForwarderHooks, type ForwarderOptions } from './forwarder.js';
