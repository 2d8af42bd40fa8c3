export { loadConfig, readSecretFile, redact, settings, type LoadConfigOptions } from './load.js';
export { ConfigSchema, byteSize, duration, enrichWorkers, workerYoungGenerationMb, type Config, type ConfigInput } from './schema.js';
