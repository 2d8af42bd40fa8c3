export { createLogger } from './logger.js';
export { LogsiftMetrics, type MetricsOptions } from './metrics.js';
export { ShadowScanner, type ShadowInput, type ShadowScannerOptions } from './shadow.js';
