/** tools/helm-render on a small chart that uses every function and object it implements. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { helmRender, parseManifests } from '../helpers/helm.js';
import { REPO_ROOT } from '../helpers/shared.js';
import { useTempDirs } from '../helpers/temp.js';

const CHART = join(REPO_ROOT, 'test', 'chart', 'fixtures', 'features');
const tempDir = useTempDirs('helm-render');

/** A chart written from a map of path to content. */
async function chartOf(files: Record<string, string>): Promise<string> {
  const dir = await tempDir();
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  return dir;
}

const CHART_YAML = 'apiVersion: v2\nname: tiny\nversion: 0.0.1\n';

async function ok(args: readonly string[]): Promise<string> {
  const r = await helmRender([...args, CHART]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return r.stdout;
}

async function error(args: readonly string[]): Promise<string> {
  const r = await helmRender(args);
  expect(r.code).toBe(1);
  expect(r.stdout).toBe('');
  return r.stderr;
}

describe('helm-render', () => {
  it('provides Helm\'s objects and functions', async () => {
    const manifests = parseManifests(await ok(['-n', 'ns', '-a', 'keda.sh/v1alpha1', 'rel']));
    expect(manifests.map((m) => [m.source, m.object.metadata.name])).toEqual([
      ['features/templates/objects.yaml', 'rel-features'],
      ['features/templates/objects.yaml', 'globbed'],
    ]);
    const data = manifests[0]!.object['data'] as Record<string, string>;
    expect(manifests[0]!.object.metadata.namespace).toBe('ns');
    expect(data).toMatchObject({
      release: 'rel Helm true false 1',
      chart: 'features 1.2.3 9.9',
      template: 'features/templates/objects.yaml features/templates',
      kube: 'v1.30.0 1 30 v1.30.0',
      apis: 'true true false',
      'values.yaml': 'drop: 2\nkeep: 1\nlist:\n  - a\n  - b\n',
      tpl: 'rel-base',
      fromYaml: 'x,y',
      fromYamlError: 'true',
      fromYamlArray: '3',
      fromJson: 'v',
      include: '3 2 1',
      file: 'one\ntwo\n',
      fileBytes: '8',
      missingFile: '',
      lines: 'one+two',
      lookup: '0',
      missing: '',
    });
    expect(JSON.parse(data['values.json']!)).toMatchObject({ name: 'base', nested: { keep: 1, drop: 2, list: ['a', 'b'] } });
    expect(manifests[1]!.object['data']).toEqual({ 'a.yaml': 'alpha: 1\n', 'b.yaml': 'beta: 2\n' });
  });

  it('merges values as Helm does: files in order, then --set, then --set-string; null deletes', async () => {
    const values = JSON.parse(
      await ok(['--show-values', '--set-string', 'code=007', '--set', 'nested.list={c,d},port=8080,on=true', '-f', join(CHART, 'override-values.yaml'), '--set', 'name=from-set']),
    ) as Record<string, unknown>;
    expect(values).toMatchObject({ name: 'from-set', code: '007', port: 8080, on: true, nested: { keep: 1, added: true, list: ['c', 'd'] } });
    expect(values['nested']).not.toHaveProperty('drop');
    expect(JSON.parse(await ok(['--show-values', '--set', 'name=x', '--set-string', 'name=y']))).toMatchObject({ name: 'y' });
  });

  it('orders documents as Helm installs them and renders NOTES.txt apart', async () => {
    const manifests = parseManifests(await ok(['--set', 'service.name=web']));
    expect(manifests.map((m) => m.object.kind)).toEqual(['ConfigMap', 'ConfigMap', 'Service']);
    expect(await ok(['--notes', '-n', 'prod', 'r1'])).toBe('Installed r1 in prod.\n');
  });

  it.each([
    ['required', ['--set', 'service.port=80'], /^Error: execution error at \(features\/templates\/service\.yaml:5:11\): service\.name is required\n$/],
    ['fail', ['--set', 'failWith=stop here'], /^Error: execution error at \(features\/templates\/service\.yaml:\d+:\d+\): stop here\n$/],
    ['include recursion', ['--set', 'recurse=true'], /nested more than 1000 deep/],
    ['a tpl parse error', ['--set', 'badTpl=true'], /tpl: cannot parse "\{\{ \.Values\.name "/],
    ['a document that is no object', ['--set', 'notAnObject=true'], /features\/templates\/service\.yaml: a document without apiVersion and kind/],
    ['a Kubernetes version the chart excludes', ['--kube-version', 'v1.24.3'], /chart requires kubeVersion: >=1\.25\.0-0 which is incompatible with Kubernetes v1\.24\.3/],
    ['a bad Kubernetes version', ['--kube-version', 'latest'], /--kube-version "latest"/],
    ['a --set without =', ['--set', 'name'], /--set "name": expected key=value/],
    ['a missing values file', ['-f', '/nonexistent/values.yaml'], /nonexistent\/values\.yaml: no such file/],
  ])('reports %s', async (_name, args, message) => {
    expect(await error([...args, CHART])).toMatch(message);
  });

  it('reports usage and non-chart directories', async () => {
    expect(await error([])).toMatch(/usage: helm-render \[flags\] \[RELEASE\] CHART_DIR/);
    expect(await error([join(REPO_ROOT, 'test')])).toMatch(/not a chart directory/);
  });

  it('keeps what --set cannot parse as text, and reads an empty file as no lines', async () => {
    const dir = await chartOf({
      'Chart.yaml': CHART_YAML,
      'files/empty.txt': '',
      'templates/cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: c }\ndata: { raw: {{ .Values.raw | quote }}, lines: {{ .Files.Lines "files/empty.txt" | len | quote }} }\n',
    });
    const r = await helmRender(['--set', 'raw=[1', dir]);
    expect(r.stderr).toBe('');
    expect(parseManifests(r.stdout)[0]!.object['data']).toEqual({ raw: '[1', lines: '0' });
  });

  it('reads numbers in values files as Helm does (float64, so 1000000 prints as 1e+06), --set numbers as integers', async () => {
    const dir = await chartOf({
      'Chart.yaml': CHART_YAML,
      'values.yaml': 'big: 1000000\nsmall: 42\nlist: [3000000]\n',
      'templates/cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: c }\ndata: { big: "{{ .Values.big }}", small: "{{ .Values.small }}", item: "{{ first .Values.list }}", set: "{{ .Values.fromSet }}" }\n',
    });
    const r = await helmRender(['--set', 'fromSet=1000000', dir]);
    expect(parseManifests(r.stdout)[0]!.object['data']).toEqual({ big: '1e+06', small: '42', item: '3e+06', set: '1000000' });
  });

  it.each([
    ['a Chart.yaml without a version', { 'Chart.yaml': 'apiVersion: v2\nname: tiny\n' }, /Chart\.yaml: name and version are required/],
    ['subcharts in Chart.yaml', { 'Chart.yaml': `${CHART_YAML}dependencies:\n  - name: x\n` }, /dependencies \(subcharts\) are not supported/],
    ['a charts/ directory', { 'Chart.yaml': CHART_YAML, 'charts/x/Chart.yaml': CHART_YAML }, /charts\/: subcharts are not supported/],
    ['a bad kubeVersion constraint', { 'Chart.yaml': `${CHART_YAML}kubeVersion: "not a range"\n` }, /Chart\.yaml kubeVersion "not a range"/],
    ['a values.yaml that is not YAML', { 'Chart.yaml': CHART_YAML, 'values.yaml': 'a: [1\n' }, /values\.yaml: yaml: /],
    ['a manifest\'s error before one of NOTES.txt', { 'Chart.yaml': CHART_YAML, 'templates/NOTES.txt': '{{ fail "from notes" }}', 'templates/z.yaml': '{{ fail "from z" }}' }, /\(tiny\/templates\/z\.yaml:1:3\): from z\n$/],
    ['a template that does not parse', { 'Chart.yaml': CHART_YAML, 'templates/x.yaml': '{{ .Values.a ' }, /parse error: template: tiny\/templates\/x\.yaml:1: /],
  ])('reports %s', async (_name, files, message) => {
    expect(await error([await chartOf(files)])).toMatch(message);
  });
});
