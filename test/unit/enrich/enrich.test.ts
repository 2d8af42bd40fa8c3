import { readFileSync } from 'node:fs';

import Ajv2020 from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';

import { Enricher, EventEncoder, SuffixAutomaton, buildEvent, extractText, getField, longestCommonSubstring, DEFAULT_MESSAGE_FIELDS, JsonRequiredError } from '../../../src/enrich/index.js';
import { Matcher } from '../../../src/matcher/index.js';
import { REPO_ROOT } from '../../helpers/shared.js';
import { kbOf, record } from '../../helpers/kb.js';

const schema = JSON.parse(readFileSync(`${REPO_ROOT}/schema/event-v1.schema.json`, 'utf8')) as object;
const validate = new Ajv2020.default({ strict: false }).compile(schema);

describe('extractText', () => {
  const fields = DEFAULT_MESSAGE_FIELDS;

  it('scans raw text as is', () => {
    expect(extractText('plain line', fields)).toEqual({ text: 'plain line', log: 'plain line', json: false });
  });

  it('scans the message fields of JSON logs, dotted keys and nested objects alike', () => {
    const flat = extractText('{"level":"error","message":"request failed","error.message":"boom"}', fields);
    expect(flat).toMatchObject({ text: 'request failed\nboom', json: true });
    const nested = extractText('{"msg":"x","error":{"message":"boom","stack_trace":"at a\\nat b"}}', fields);
    expect(nested.text).toBe('x\nboom\nat a\nat b');
    expect(nested.log).toEqual({ msg: 'x', error: { message: 'boom', stack_trace: 'at a\nat b' } });
  });

  it('falls back to the raw text for JSON without message fields, arrays and broken JSON', () => {
    expect(extractText('{"level":"info","n":1}', fields).text).toBe('{"level":"info","n":1}');
    expect(extractText('{not json', fields)).toMatchObject({ text: '{not json', json: false });
    expect(extractText('[1,2]', fields).json).toBe(false);
  });

  it('requires JSON in json mode and never parses in raw mode', () => {
    expect(() => extractText('plain', fields, 'json')).toThrow(JsonRequiredError);
    expect(() => extractText('{bad', fields, 'json')).toThrow(JsonRequiredError);
    expect(extractText('{"message":"m"}', fields, 'raw').text).toBe('{"message":"m"}');
  });

  it('stringifies structured exception fields', () => {
    expect(extractText('{"exception":{"class":"E","message":"m"}}', fields).text).toBe('{"class":"E","message":"m"}');
    expect(getField({ a: { 'b.c': 1 } }, 'a.b.c')).toBe(1);
    expect(getField({ 'a.b': { c: 2 } }, 'a.b.c')).toBe(2);
  });
});

describe('longest common substring', () => {
  it('the suffix automaton agrees with the dynamic programme on random strings', () => {
    let seed = 42;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const word = (n: number) => Array.from({ length: n }, () => 'abc d'[Math.floor(rnd() * 5)]).join('');
    for (let i = 0; i < 300; i++) {
      const a = word(Math.floor(rnd() * 40));
      const b = word(Math.floor(rnd() * 80));
      expect(new SuffixAutomaton(a).longestCommonSubstring(b)).toBe(longestCommonSubstring(a, b));
    }
    // Texts with characters the signature lacks (ASCII and not), and non-ASCII signatures.
    const mixed = (n: number, alphabet: string) => Array.from({ length: n }, () => alphabet[Math.floor(rnd() * alphabet.length)]).join('');
    for (let i = 0; i < 300; i++) {
      const a = mixed(Math.floor(rnd() * 40), i % 2 ? 'ab é' : 'ab€c');
      const b = mixed(Math.floor(rnd() * 80), 'abxé€ c:');
      expect(new SuffixAutomaton(a).longestCommonSubstring(b)).toBe(longestCommonSubstring(a, b));
    }
    expect(new SuffixAutomaton('').longestCommonSubstring('abc')).toBe(0);
  });
});

describe('Enricher and event v1', () => {
  const kb = kbOf(
    record('generic/timeout', 'timed? ?out', { signature: 'timeout' }),
    record('pg/statement-timeout', 'canceling statement due to statement timeout', { signature: 'ERROR: canceling statement due to statement timeout' }),
  );

  it('ranks the more specific signature first and keeps every match', async () => {
    const m = await Matcher.create(kb, { cacheDir: null });
    const e = new Enricher(kb, m, { fields: DEFAULT_MESSAGE_FIELDS, format: 'auto' });
    const [r] = e.enrichBatch(['ERROR: canceling statement due to statement timeout'], [{ file: 'f', line: 1 }]);
    expect(r!.event).toMatchObject({
      schema: 'logsift.event/v1',
      signature_id: 'pg/statement-timeout',
      matches: ['pg/statement-timeout', 'generic/timeout'],
      workaround_ids: ['pg/statement-timeout#w1', 'custom-pg/statement-timeout'],
      dead_end_ids: ['pg/statement-timeout#d1'],
      kb_version: kb.version,
      source: { file: 'f', line: 1 },
      log: 'ERROR: canceling statement due to statement timeout',
    });
    expect(validate(r!.event), JSON.stringify(validate.errors)).toBe(true);
  });

  it('emits schema-valid events for unmatched, JSON and Kafka-sourced messages', async () => {
    const m = await Matcher.create(kb, { cacheDir: null });
    const e = new Enricher(kb, m, { fields: DEFAULT_MESSAGE_FIELDS, format: 'auto' });
    const rs = e.enrichBatch(['all good', '{"message":"read timed out"}'], [
      { file: 'f', line: 1 },
      { topic: 'logs', partition: 3, offset: '18446744073709551615', timestamp: '1700000000000', key: 'AAEC', key_encoding: 'base64' },
    ]);
    expect(rs[0]!.event.signature_id).toBeNull();
    expect(rs[1]!.event.log).toEqual({ message: 'read timed out' });
    for (const r of rs) expect(validate(r.event), JSON.stringify(validate.errors)).toBe(true);
    expect(validate({ ...rs[0]!.event, kb_version: 'nope' })).toBe(false);
    expect(validate({ ...rs[0]!.event, source: { topic: 't' } })).toBe(false);
  });

  it('the encoder writes exactly JSON.stringify of the event', async () => {
    const m = await Matcher.create(kb, { cacheDir: null });
    const e = new Enricher(kb, m, { fields: DEFAULT_MESSAGE_FIELDS, format: 'auto' });
    const enc = new EventEncoder(kb);
    const rs = e.enrichBatch(
      ['timeout "quoted" \u2028 é', 'nothing', '{"msg":"statement timeout canceling statement due to statement timeout"}', 'statement timeout', 'statement timeout', 'statement timeout'],
      [{ file: 'a"b', line: 1 }, { file: 'x', line: 2 }, {}, { file: 'x', line: 4 }, { file: 'a"b', line: 5 }, { topic: 't', partition: 0, offset: '7', timestamp: null, key: 'k"' }],
    );
    for (const r of rs) {
      expect(r.json()).toBe(JSON.stringify(r.event));
      for (const hasPrimary of [true, false]) {
        expect(enc.encode(r.ranked, hasPrimary, r.source, r.logJson)).toBe(JSON.stringify(buildEvent(r.ranked, hasPrimary, kb, r.source, JSON.parse(r.logJson))));
      }
    }
  });

  it('output.includeLog: the whole message, a marked 1 KiB cut, or no `log` at all; the schema holds for each', async () => {
    const m = await Matcher.create(kb, { cacheDir: null });
    const long = JSON.stringify({ msg: 'statement timeout', detail: 'x'.repeat(5000), deep: { a: { b: { c: { d: { e: { f: { g: { h: { i: 1 } } } } } } } } } });
    const inputs = ['statement timeout', long];
    const sources = [{ file: 'f', line: 1 }, { file: 'f', line: 2 }];
    const by = (includeLog: 'full' | 'truncated' | 'none') => new Enricher(kb, m, { fields: DEFAULT_MESSAGE_FIELDS, format: 'auto', includeLog }).enrichBatch(inputs, sources);
    const full = by('full');
    const cut = by('truncated');
    const none = by('none');
    for (const rs of [full, cut, none]) {
      for (const r of rs) {
        expect(r.json()).toBe(JSON.stringify(r.event));
        expect(validate(JSON.parse(r.json()))).toBe(true);
      }
    }
    expect(full[1]!.event.log).toEqual(JSON.parse(long));
    expect(JSON.stringify(cut[1]!.event.log).length).toBeLessThan(1024 + 8 * 24);
    expect(JSON.stringify(cut[1]!.event.log)).toContain('[logsift: truncated]');
    expect(cut[0]!.event.log).toBe('statement timeout'); // short messages are whole
    for (const r of none) expect('log' in JSON.parse(r.json())).toBe(false);
    // The match itself does not depend on what the event carries.
    expect(none.map((r) => r.signatureId)).toEqual(full.map((r) => r.signatureId));
    expect(none[1]!.json().length).toBeLessThan(full[1]!.json().length / 4);
  });
});
