/** `logsift run`: the Kafka daemon. Flags override the config file, which overrides defaults. */
import { parseArgs } from 'node:util';

import { loadConfig } from '../config/index.js';
import { daemonMetrics, startDaemon, superviseDaemon } from '../main.js';
import { createLogger } from '../telemetry/index.js';
import type { Output } from './common.js';
import { EXIT_CODES } from './exit-codes.js';
import { installProcessGuard } from './process-guard.js';

const FLAGS: Record<string, { path: string[]; list?: boolean; number?: boolean }> = {
  brokers: { path: ['kafka', 'brokers'], list: true },
  input: { path: ['input', 'topics'], list: true },
  output: { path: ['output', 'topic'] },
  group: { path: ['input', 'groupId'] },
  kb: { path: ['kb', 'paths'], list: true },
  include: { path: ['kb', 'include'], list: true },
  exclude: { path: ['kb', 'exclude'], list: true },
  delivery: { path: ['delivery', 'mode'] },
  dlq: { path: ['output', 'dlqTopic'] },
  unmatched: { path: ['output', 'unmatchedTopic'] },
  'http-port': { path: ['http', 'port'], number: true },
  'min-strength': { path: ['match', 'minStrength'], number: true },
  'log-level': { path: ['log', 'level'] },
  'exact-budget': { path: ['match', 'exactBudget'] },
};

export async function runCommand(args: string[], io: Output): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: 'string' },
      ...Object.fromEntries(Object.keys(FLAGS).map((k) => [k, { type: 'string' as const, multiple: true }])),
    },
    strict: true,
  });
  const overrides: { path: string[]; value: unknown; flag: string }[] = [];
  for (const [flag, spec] of Object.entries(FLAGS)) {
    const given = (values as Record<string, string[] | undefined>)[flag];
    if (!given) continue;
    const last = given[given.length - 1]!;
    const value = spec.list ? given.flatMap((g) => g.split(',')).map((s) => s.trim()).filter(Boolean) : spec.number ? Number(last) : last;
    overrides.push({ path: spec.path, value, flag: `--${flag}` });
  }
  const config = loadConfig({ ...(values.config ? { file: values.config } : {}), overrides });
  const logger = createLogger(config.log.level);
  const metrics = daemonMetrics(config, logger);
  // The process-level policy belongs to whoever owns the process (not to in-process callers).
  const unguard = io.exit ? installProcessGuard({ logger, count: (source) => metrics.unexpectedError(source), exit: io.exit }) : () => undefined;
  let code: number;
  try {
    // Supervised from the first moment: a signal while the KB loads is handled too (see superviseDaemon).
    code = await superviseDaemon(startDaemon(config, { logger, metrics }), config, logger);
  } catch (err) {
    logger.fatal({ err, code: (err as { code?: string }).code, exit_code: EXIT_CODES.failure }, 'logsift run failed to start');
    io.err(`logsift: ${(err as Error).message}\n`);
    code = EXIT_CODES.failure;
  } finally {
    unguard();
  }
  // Whatever is still open (a kafkajs retry loop, a socket) must not keep the process alive.
  io.exit?.(code);
  return code;
}
