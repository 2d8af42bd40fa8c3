/** Builds the kafkajs client from the configuration; routes kafkajs logs into the injected logger. */
import type { KafkaConfig, LogEntry, SASLOptions } from 'kafkajs';
import type { Logger } from 'pino';

import { readSecretFile, type Config } from '../config/index.js';
import { registerCodecs } from './codecs.js';
import { Kafka, logLevel } from './kafkajs.js';

const LEVEL: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/**
 * kafkajs warnings that describe a choice logsift made on purpose, logged at debug instead. kafkajs
 * warns once per idempotent producer whose retries are bounded; exactly-once bounds them deliberately
 * (a failed send aborts its transaction and the chunk is redone: delivery.ts) on one producer per
 * input partition, so the warning said nothing, 64 times on every start of a 64-partition input.
 */
export const EXPECTED_KAFKAJS_WARNINGS: ReadonlySet<string> = new Set(['Limiting retries for the idempotent producer may invalidate EoS guarantees']);

function sasl(config: Config['kafka']): SASLOptions | undefined {
  const s = config.sasl;
  if (!s) return undefined;
  const password = s.password ?? readSecretFile(s.passwordFile!, 'kafka.sasl.passwordFile');
  return { mechanism: s.mechanism, username: s.username, password } as SASLOptions;
}

export function createKafka(config: Config['kafka'], logger: Logger): Kafka {
  registerCodecs();
  const ssl = config.ssl;
  const kafkaConfig: KafkaConfig = {
    clientId: config.clientId,
    brokers: config.brokers,
    connectionTimeout: config.connectionTimeout,
    requestTimeout: config.requestTimeout,
    // kafkajs INFO logs every group join; ours says what matters. Errors and warnings pass through.
    logLevel: logLevel.WARN,
    logCreator: () => (entry: LogEntry) => {
      const { message, timestamp: _t, logger: _l, ...extra } = entry.log;
      const level = entry.level === logLevel.WARN && EXPECTED_KAFKAJS_WARNINGS.has(message) ? 'debug' : (LEVEL[entry.level] ?? 'info');
      logger[level]({ kafkajs: entry.namespace, ...extra }, message);
    },
    retry: { initialRetryTime: 250, maxRetryTime: 10_000, retries: 8 },
  };
  if (ssl.enabled) {
    kafkaConfig.ssl = {
      rejectUnauthorized: ssl.rejectUnauthorized,
      ...(ssl.caFile ? { ca: [readSecretFile(ssl.caFile, 'kafka.ssl.caFile')] } : {}),
      ...(ssl.certFile ? { cert: readSecretFile(ssl.certFile, 'kafka.ssl.certFile') } : {}),
      ...(ssl.keyFile ? { key: readSecretFile(ssl.keyFile, 'kafka.ssl.keyFile') } : {}),
    };
  }
  const s = sasl(config);
  if (s) kafkaConfig.sasl = s;
  return new Kafka(kafkaConfig);
}
