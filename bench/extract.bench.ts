/**
 * npm run bench:extract — what the input shapes of "Beside your pipeline" cost per message, each
 * beside its baseline in the same process: syslog-header detection (`auto`) against no parsing
 * (`raw`) on loghub lines; a Fluent Bit JSON log (fields + resource) against JSON.parse alone; OTLP
 * decoding per log record, for requests built by the OpenTelemetry JS SDK's serializers.
 */
import { DEFAULT_MESSAGE_FIELDS, decodeOtlpLogs, extractText } from '../src/enrich/index.js';
import { sdkOtlpLogs } from '../test/helpers/otlp.js';
import { fmt, loghubLines, measure } from './common.js';

async function main(): Promise<void> {
  const lines = loghubLines();
  const syslogShare = lines.filter((l) => extractText(l, DEFAULT_MESSAGE_FIELDS).context !== undefined).length / lines.length;
  const rows: [string, number][] = [];
  rows.push(['loghub lines, raw (baseline: no parsing)', measure(lines.length, () => lines.forEach((l) => extractText(l, DEFAULT_MESSAGE_FIELDS, 'raw'))).perCore]);
  rows.push([`loghub lines, auto (syslog header detected on ${(syslogShare * 100).toFixed(0)}%)`, measure(lines.length, () => lines.forEach((l) => extractText(l, DEFAULT_MESSAGE_FIELDS, 'auto'))).perCore]);
  const json = lines.map((l, i) => JSON.stringify({ log: `${l}\n`, stream: 'stderr', kubernetes: { pod_name: `api-${i % 50}`, namespace_name: 'shop', container_name: 'app', host: 'node-3', labels: { app: 'api' } } }));
  rows.push(['Fluent Bit JSON, JSON.parse alone (baseline)', measure(json.length, () => json.forEach((l) => JSON.parse(l))).perCore]);
  rows.push(['Fluent Bit JSON, extractText (fields + resource)', measure(json.length, () => json.forEach((l) => extractText(l, DEFAULT_MESSAGE_FIELDS))).perCore]);
  const sample = lines.slice(0, 100).map((body) => ({ body, severityText: 'ERROR' }));
  for (const encoding of ['json', 'proto'] as const) {
    const value = await sdkOtlpLogs({ 'service.name': 'api', 'k8s.namespace.name': 'shop' }, sample, encoding);
    rows.push([`OTLP ${encoding}, 100 records per message, per record`, measure(sample.length, () => decodeOtlpLogs(value, encoding, DEFAULT_MESSAGE_FIELDS)).perCore]);
  }
  console.log('| input | items/s per core |\n|---|---|');
  for (const [name, rate] of rows) console.log(`| ${name} | ${fmt(rate)} |`);
}

await main();
