/** Structured JSON logs (pino) to stderr; stdout stays free for `logsift scan` events. */
import { pino, type Logger, type LevelWithSilent } from 'pino';

export function createLogger(level: LevelWithSilent, name = 'logsift'): Logger {
  return pino({ name, level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime, redact: ['*.password', 'password', 'sasl.password'] }, pino.destination(2));
}
