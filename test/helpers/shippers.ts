/**
 * Real log shippers as child processes for the tests: rsyslog (omkafka) and syslog-ng (kafka-c), each
 * with its config from test/shippers/, its work directory, pid file and state under a temp directory
 * the test owns. Neither opens the system's log sockets.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

import { REPO_ROOT } from './shared.js';

export interface ShipperTopics {
  json: string;
  rfc5424: string;
  rfc3164: string;
}

export interface Shipper {
  readonly name: string;
  output(): string;
  stop(): Promise<void>;
}

function render(template: string, vars: Record<string, string>): string {
  let text = readFileSync(join(REPO_ROOT, 'test', 'shippers', template), 'utf8');
  for (const [k, v] of Object.entries(vars)) text = text.replaceAll(`@${k}@`, v);
  if (/@[A-Z_0-9]+@/.test(text)) throw new Error(`${template}: unfilled variable ${/@[A-Z_0-9]+@/.exec(text)![0]}`);
  return text;
}

function watch(name: string, child: ChildProcess): Shipper {
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    name,
    output: () => out,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

function vars(dir: string, input: string, brokers: string, topics: ShipperTopics): Record<string, string> {
  return { WORKDIR: dir, INPUT: input, BROKERS: brokers, TOPIC_JSON: topics.json, TOPIC_5424: topics.rfc5424, TOPIC_3164: topics.rfc3164 };
}

export function startRsyslog(dir: string, input: string, brokers: string, topics: ShipperTopics): Shipper {
  const conf = join(dir, 'rsyslog.conf');
  writeFileSync(conf, render('rsyslog.conf', vars(dir, input, brokers, topics)));
  return watch('rsyslog', spawn('rsyslogd', ['-n', '-f', conf, '-i', join(dir, 'rsyslogd.pid')], { stdio: ['ignore', 'pipe', 'pipe'] }));
}

/** Where setup.sh unpacked syslog-ng (Debian makes its package conflict with rsyslog's). */
export function syslogNgRoot(): string {
  const env = process.env['LOGSIFT_SYSLOG_NG_ROOT'];
  if (env) return env;
  const deps = process.env['LOGSIFT_DEPS_DIR'] ?? join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'logsift-deps');
  const root = join(deps, 'syslog-ng', 'root');
  if (!existsSync(join(root, 'usr', 'sbin', 'syslog-ng'))) throw new Error(`syslog-ng not unpacked: run bash scripts/setup.sh (looked in ${root})`);
  return root;
}

export function startSyslogNg(dir: string, input: string, brokers: string, topics: ShipperTopics): Shipper {
  const root = syslogNgRoot();
  const conf = join(dir, 'syslog-ng.conf');
  writeFileSync(conf, render('syslog-ng.conf', vars(dir, input, brokers, topics)));
  const args = ['-F', '--no-caps', '-f', conf, `--module-path=${join(root, 'usr', 'lib', 'syslog-ng', '3.38')}`, '-R', join(dir, 'syslog-ng.persist'), '-p', join(dir, 'syslog-ng.pid'), '-c', join(dir, 'syslog-ng.ctl')];
  const env = { ...process.env, LD_LIBRARY_PATH: join(root, 'usr', 'lib', 'syslog-ng') };
  return watch('syslog-ng', spawn(join(root, 'usr', 'sbin', 'syslog-ng'), args, { stdio: ['ignore', 'pipe', 'pipe'], env }));
}
