export { createLogger } from './logger.js';
export { LogsiftMetrics, UNEXPECTED_SOURCES, type MetricsOptions, type UnexpectedSource } from './metrics.js';
export { ShadowScanner, type ShadowInput, type ShadowScannerOptions } from './shadow.js';
