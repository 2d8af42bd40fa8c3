/** Debian's real `prometheus` on 127.0.0.1 with a throw-away TSDB, and its HTTP query API. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { waitFor } from './wait.js';

export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

export class Prometheus {
  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
    readonly url: string,
  ) {}

  static async start(targets: string[], ruleFiles: string[] = [], options: { alertmanager?: string; externalLabels?: Record<string, string> } = {}): Promise<Prometheus> {
    const dir = await mkdtemp(join(tmpdir(), 'logsift-prom-'));
    const config = [
      'global:',
      '  scrape_interval: 1s',
      '  evaluation_interval: 1s',
      `  external_labels: {${Object.entries(options.externalLabels ?? {}).map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join(', ')}}`,
      ...(options.alertmanager ? ['alerting:', '  alertmanagers:', `    - static_configs: [{ targets: [${JSON.stringify(options.alertmanager)}] }]`] : []),
      `rule_files: [${ruleFiles.map((f) => JSON.stringify(f)).join(', ')}]`,
      'scrape_configs:',
      '  - job_name: logsift',
      `    static_configs: [{ targets: [${targets.map((t) => JSON.stringify(t)).join(', ')}] }]`,
    ].join('\n');
    await writeFile(join(dir, 'prometheus.yml'), config);
    const port = await freePort();
    const child = spawn('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], { stdio: 'ignore' });
    const p = new Prometheus(child, dir, `http://127.0.0.1:${port}`);
    await waitFor(async () => (await fetch(`${p.url}/-/ready`)).ok, 'prometheus to be ready', 60_000, 200);
    return p;
  }

  async api<T>(path: string, params: Record<string, string>): Promise<T> {
    const res = await fetch(`${this.url}${path}?${new URLSearchParams(params)}`);
    const body = (await res.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`prometheus ${path} ${JSON.stringify(params)}: ${body.error}`);
    return body.data;
  }

  async query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
    return (await this.api<{ result: { metric: Record<string, string>; value: [number, string] }[] }>('/api/v1/query', { query: expr })).result;
  }

  async seriesExist(metric: string): Promise<boolean> {
    return (await this.api<unknown[]>('/api/v1/series', { 'match[]': `{__name__="${metric}"}` })).length > 0;
  }

  async stop(): Promise<void> {
    this.child.kill('SIGTERM');
    await new Promise((r) => (this.child.exitCode !== null ? r(null) : this.child.once('exit', r)));
    await rm(this.dir, { recursive: true, force: true });
  }
}
