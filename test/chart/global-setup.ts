/** Builds tools/helm-render once for the chart project (cached by source hash; minutes on a fresh machine). */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

import type { TestProject } from 'vitest/node';

import { REPO_ROOT } from '../helpers/shared.js';

declare module 'vitest' {
  export interface ProvidedContext {
    helmRender: string;
  }
}

export default function setup(project: TestProject): void {
  const path = process.env['LOGSIFT_HELM_RENDER'] ?? execFileSync('bash', [join(REPO_ROOT, 'tools', 'helm-render', 'build.sh')], { encoding: 'utf8' }).trim();
  project.provide('helmRender', path);
}
