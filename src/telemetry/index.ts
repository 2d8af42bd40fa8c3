export { createLogger } from './logger.js';
export { LogsiftMetrics, type MetricsOptions } from './metrics.js';
