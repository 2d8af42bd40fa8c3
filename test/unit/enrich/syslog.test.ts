import { describe, expect, it } from 'vitest';

import { DEFAULT_MESSAGE_FIELDS, extractText, parseSyslog, resourceFromLog } from '../../../src/enrich/index.js';

describe('parseSyslog', () => {
  it('RFC 5424: host, app name and the message after structured data', () => {
    expect(parseSyslog('<11>1 2026-11-23T10:00:00.123456+00:00 web-1 api 4242 ID47 [exampleSDID@32473 iut="3" note="a ] in \\"quotes\\""][x@1 y="z"] FATAL: too many clients')).toEqual({
      format: 'rfc5424',
      hostname: 'web-1',
      appName: 'api',
      message: 'FATAL: too many clients',
    });
    expect(parseSyslog('<11>1 2026-11-23T10:00:00Z - - - - - \uFEFFboom')).toEqual({ format: 'rfc5424', hostname: null, appName: null, message: 'boom' });
    expect(parseSyslog('<11>1 2026-11-23T10:00:00Z h a - - -')).toMatchObject({ message: '' });
    expect(parseSyslog('<11>1 2026-11-23T10:00:00Z h a - - [unterminated x="1" boom')).toBeNull();
  });

  it('RFC 3164 and the PRI-less file formats', () => {
    expect(parseSyslog('<13>Nov  3 10:00:00 db-2 postgres[311]: FATAL: too many clients')).toEqual({ format: 'rfc3164', hostname: 'db-2', appName: 'postgres', message: 'FATAL: too many clients' });
    expect(parseSyslog('Nov 23 10:00:00 db-2 kernel: oom')).toMatchObject({ hostname: 'db-2', appName: 'kernel', message: 'oom' });
    expect(parseSyslog('2026-11-23T10:00:00.123456+01:00 web-1 api[9]: x')).toMatchObject({ hostname: 'web-1', appName: 'api', message: 'x' });
  });

  it('leaves other lines alone', () => {
    for (const l of ['2026-11-23 10:00:00 ERROR Foo: bar', '2026-05-01T10:00:00Z ERROR db: connection refused', 'Nov 23 10:00:00 WARN cache: miss', 'java.lang.OutOfMemoryError: Java heap space', '<13>garbage', 'Nov 23 10:00:00 only-host', '', '{"a":1}']) expect(parseSyslog(l), l).toBeNull();
  });
});

describe('extractText and the resource', () => {
  it('scans a syslog line after its header and keeps the raw line as log', () => {
    const line = '<13>Nov 23 10:00:00 db-2 postgres[311]: FATAL: too many clients';
    expect(extractText(line, DEFAULT_MESSAGE_FIELDS)).toEqual({ text: 'FATAL: too many clients', log: line, json: false, context: { resource: { 'service.name': 'postgres', 'host.name': 'db-2' } } });
    expect(extractText(line, DEFAULT_MESSAGE_FIELDS, 'raw')).toEqual({ text: line, log: line, json: false });
  });

  it('normalizes with the documented precedence: OTel/ECS fields, then kubernetes.*, then shipper fields', () => {
    expect(resourceFromLog({ service: { name: 'ecs-svc', environment: 'prod' }, host: { name: 'ecs-host' }, kubernetes: { namespace_name: 'ns', labels: { app: 'label-app' } } })).toEqual({
      'service.name': 'ecs-svc',
      'deployment.environment': 'prod',
      'host.name': 'ecs-host',
      'k8s.namespace.name': 'ns',
    });
    expect(resourceFromLog({ kubernetes: { labels: { 'app.kubernetes.io/name': 'n1', app: 'a' } }, host: 'h', PROGRAM: 'p' })).toEqual({ 'service.name': 'n1', 'host.name': 'h' });
    expect(resourceFromLog({ HOST: 'h', PROGRAM: 'p', message: 'x' })).toEqual({ 'service.name': 'p', 'host.name': 'h' });
    // Elastic's newer kubernetes.namespace object; flat OTel keys; nothing known at all.
    expect(resourceFromLog({ kubernetes: { namespace: { name: 'ns2' } }, 'service.name': 'flat' })).toEqual({ 'k8s.namespace.name': 'ns2', 'service.name': 'flat' });
    expect(resourceFromLog({ level: 'error', msg: 'x' })).toEqual({});
    expect(resourceFromLog({ 'service.name': '  ', host: { name: 'x'.repeat(300) } })).toEqual({ 'host.name': 'x'.repeat(256) });
  });
});
