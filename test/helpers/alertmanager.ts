/** Debian's real Alertmanager (`prometheus-alertmanager`) on 127.0.0.1, clustering off, throw-away storage. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { freePort } from './prometheus.js';
import { waitFor } from './wait.js';

export class Alertmanager {
  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
    readonly url: string,
    readonly address: string,
  ) {}

  /** `config`: alertmanager.yml text. */
  static async start(config: string): Promise<Alertmanager> {
    const dir = await mkdtemp(join(tmpdir(), 'logsift-am-'));
    await writeFile(join(dir, 'alertmanager.yml'), config);
    const port = await freePort();
    const child = spawn(
      'prometheus-alertmanager',
      [`--config.file=${join(dir, 'alertmanager.yml')}`, `--storage.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address=', '--log.level=warn'],
      { stdio: 'ignore' },
    );
    const am = new Alertmanager(child, dir, `http://127.0.0.1:${port}`, `127.0.0.1:${port}`);
    await waitFor(async () => (await fetch(`${am.url}/-/ready`)).ok, 'alertmanager to be ready', 60_000, 200);
    return am;
  }

  /** Sends alerts the way Prometheus does (API v2). */
  async post(alerts: { labels: Record<string, string>; annotations: Record<string, string> }[]): Promise<void> {
    const res = await fetch(`${this.url}/api/v2/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(alerts) });
    if (!res.ok) throw new Error(`alertmanager POST /api/v2/alerts: ${res.status} ${await res.text()}`);
  }

  async stop(): Promise<void> {
    this.child.kill('SIGTERM');
    await new Promise((r) => (this.child.exitCode !== null ? r(null) : this.child.once('exit', r)));
    await rm(this.dir, { recursive: true, force: true });
  }
}
