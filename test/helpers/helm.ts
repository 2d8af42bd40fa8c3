/** The chart renderer (tools/helm-render, built once and cached) and the rendered stream, parsed. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { inject } from 'vitest';
import { parse } from 'yaml';

import { REPO_ROOT } from './shared.js';

const exec = promisify(execFile);

export const CHART_DIR = join(REPO_ROOT, 'helm', 'logsift');

/** The renderer binary test/chart/global-setup.ts built (or LOGSIFT_HELM_RENDER). */
export function helmRenderPath(): string {
  return inject('helmRender');
}

export interface RenderResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the renderer; a failed render is a result (its stderr is the point of some tests), not a throw. */
export async function helmRender(args: readonly string[]): Promise<RenderResult> {
  try {
    const { stdout, stderr } = await exec(helmRenderPath(), [...args], { maxBuffer: 64 << 20 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

export interface Manifest {
  source: string;
  object: K8sObject;
}

/** Splits a `helm template`-style stream into objects, each with the template it came from. */
export function parseManifests(stream: string): Manifest[] {
  return stream
    .split(/^---$/m)
    .filter((part) => part.trim() !== '')
    .map((part) => {
      const source = /^# Source: (\S+)$/m.exec(part)?.[1];
      if (!source) throw new Error(`document without a "# Source:" line: ${part.slice(0, 200)}`);
      return { source, object: parse(part) as K8sObject };
    });
}

/** Renders the chart and parses it; a failed render throws with the renderer's error. */
export async function renderChart(args: readonly string[] = []): Promise<Manifest[]> {
  const r = await helmRender([...args, CHART_DIR]);
  if (r.code !== 0) throw new Error(`helm-render ${args.join(' ')} failed: ${r.stderr}`);
  return parseManifests(r.stdout);
}
