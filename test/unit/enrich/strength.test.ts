import { describe, expect, it } from 'vitest';

import { MessageWords, StrengthIndex, fixedWords, isCompoundIdentifier, messageWords, regexAlternativeLiterals } from '../../../src/enrich/index.js';
import type { KnowledgeBase } from '../../../src/kb/index.js';
import { kbOf as kbOfRecords, record } from '../../helpers/kb.js';
import { hasShared, readDevLines } from '../../helpers/shared.js';

function kbOf(records: { signature: string; regex: string }[]): KnowledgeBase {
  return kbOfRecords(...records.map((r, i) => record(`t/r${i}`, r.regex, { signature: r.signature })));
}

describe('fixed words of a signature', () => {
  it('cuts out variable parts: numbers, addresses, ports, hex, UUIDs, paths, URLs, quoted names, durations', () => {
    expect(fixedWords('MOVED 3999 127.0.0.1:7002')).toEqual(['moved']);
    expect(fixedWords("fatal: Authentication failed for 'https://github.com/user/repo.git'")).toEqual(['fatal', 'authentication', 'failed', 'for']);
    expect(fixedWords('panic at 0x7ffd1234 in /usr/lib/x86_64/libc.so after 5m0s and 250ms, id 123e4567-e89b-12d3-a456-426614174000')).toEqual(['panic', 'at', 'in', 'after', 'and', 'id']);
    expect(fixedWords('see https://example.com/a?b=1 for "some name"')).toEqual(['see', 'for']);
  });

  it('keeps identifiers whole and lower-cases them', () => {
    expect(fixedWords('NOT_FOUND: CrashLoopBackOff java.lang.OutOfMemoryError')).toEqual(['not_found', 'crashloopbackoff', 'java', 'lang', 'outofmemoryerror']);
    expect(messageWords('a OutOfMemoryError b').has('memoryerror')).toBe(false);
  });
});

describe('regex alternatives as signature forms', () => {
  it('gives the literal text of each top-level alternative, a break for anything not fixed', () => {
    expect(regexAlternativeLiterals(String.raw`FATAL:\s+too many connections|FATAL:\s+sorry, too many clients already`)).toEqual([
      'FATAL:  too many connections',
      'FATAL:  sorry, too many clients already',
    ]);
    expect(regexAlternativeLiterals('(tiananmen|6.4|june 4.*1989)')).toEqual(['tiananmen', '6 4', 'june 4 1989']);
    expect(regexAlternativeLiterals('a(?=b)c[0-9]+d?')).toEqual(['a c   ']);
    expect(regexAlternativeLiterals('unbalanced (')).toEqual([]);
    expect(regexAlternativeLiterals('NOT_LEADER_(?:OR_FOLLOWER|FOR_PARTITION)|x')).toEqual(['NOT_LEADER_OR_FOLLOWER', 'NOT_LEADER_FOR_PARTITION', 'x']);
  });

  it('knows a compound identifier: three or more CamelCase humps or _-separated parts', () => {
    for (const w of ['CrashLoopBackOff', 'CommitFailedException', 'REBALANCE_IN_PROGRESS', 'NOT_LEADER_OR_FOLLOWER']) expect(isCompoundIdentifier(w), w).toBe(true);
    for (const w of ['OOMKilled', 'AccessDenied', 'vCPU', 'NOT_FOUND', 'UNAVAILABLE', 'crashloopbackoff']) expect(isCompoundIdentifier(w), w).toBe(false);
  });
});

describe('match strength', () => {
  const kb = kbOf([
    { signature: 'MOVED 3999 127.0.0.1:7002', regex: 'MOVED \\d+|ASK \\d+' },
    { signature: 'psycopg2.OperationalError: FATAL: too many connections for role "app"', regex: 'FATAL:\\s+too many connections|FATAL:\\s+sorry, too many clients already' },
    { signature: 'Connection failed: error', regex: 'connection.*failed' },
    { signature: 'Request failed with error', regex: 'request.*failed' },
    { signature: 'MemoryError', regex: 'MemoryError' },
    { signature: 'AI drafts posts that mention June 4th 1989', regex: '(tiananmen|6.4)' },
    { signature: 'OOMKilled', regex: 'OOMKilled|OOM|Killed' },
    { signature: 'Back-off restarting failed container', regex: 'CrashLoopBackOff|Back-off restarting failed container' },
  ]);
  const index = new StrengthIndex(kb);
  const strength = (i: number, text: string): number => index.scorer(text)(i);

  it('is 1 when the message shows the whole signature, whatever its variable parts say', () => {
    expect(strength(0, 'ERR MOVED 12182 10.2.3.4:6379')).toBe(1);
    expect(strength(4, 'Traceback ... MemoryError')).toBe(1);
  });

  it('is 0 when the regex matched inside words or through wildcards but no signature word is there', () => {
    expect(strength(0, 'INFO Running task 34.0 in stage 29.0')).toBe(0); // `ASK \d+` inside "task 34"
    expect(strength(5, '2015-10-18 16:4 block size')).toBe(0); // `6.4`
    expect(strength(4, 'java.lang.OutOfMemoryError: Java heap space')).toBe(0);
  });

  it('counts a regex alternative that spells a phrase of at least four words as a form of the signature', () => {
    expect(strength(1, 'FATAL:  sorry, too many clients already')).toBe(1);
    // A one-word alternative is not a form: `Killed` alone shows little of "OOMKilled".
    expect(strength(6, 'Killed process 1234 (java)')).toBe(0);
    // A compound identifier is as specific as a phrase: kubectl's status column shows only that.
    expect(strength(7, 'api-7d9f 0/1 CrashLoopBackOff 12 30m')).toBe(1);
  });

  it('weighs rare words more than common ones (inverse document frequency over the signatures)', () => {
    expect(index.weight('failed')).toBeLessThan(index.weight('moved'));
    // "connection" is in one signature, "failed" in two: showing the rarer word is more evidence.
    expect(strength(2, 'connection reset')).toBeGreaterThan(strength(2, 'job failed'));
    const s = strength(2, 'connection reset');
    expect(s).toBeGreaterThan(0);
    expect(s).toBeLessThan(1);
  });

  it('is rounded to three decimals and lies in [0, 1]', () => {
    for (const text of ['connection failed', 'request failed', 'x', '']) {
      for (let i = 0; i < kb.size; i++) {
        const s = strength(i, text);
        expect(s).toBeGreaterThanOrEqual(0);
        expect(s).toBeLessThanOrEqual(1);
        expect(Math.round(s * 1000) / 1000).toBe(s);
      }
    }
  });
});

describe('MessageWords (a word at a time)', () => {
  // Every word of each text, and words that occur only inside a longer word, at its edges, or not at all.
  // (Only words as `words` gives them are asked about: a form's words come from the same expression.)
  const texts = [
    'ERROR connect ECONNREFUSED 127.0.0.1:5432 at TCPConnectWrap.afterConnect',
    'NOT_FOUND: x_not_found not_found_y FOUND found',
    'Bağlantı reddedildi: connection refused — İstanbul ÖĞRENCİ straße STRASSE',
    '𝐀𝐁 error𝐀 𝐀error error 日本語のエラー error日本 ошибка: ошибкаX',
    'café-error naïve_fail x\u0301 ÉCOLE',
    '',
    'a'.repeat(20_000) + ' tail',
  ];
  const probes = ['error', 'found', 'not_found', 'connection', 'refused', 'econnrefused', 'tcpconnectwrap', 'aftercon', 'straße', 'strasse', 'stanbul', 'i', 'öğrenci', '𝐚𝐛', 'ошибка', 'café', 'naïve_fail', 'école', 'tail', 'a', '日本語のエラー', 'x', ''];

  it('answers exactly as the set of the message words does', () => {
    for (const t of texts) {
      const set = messageWords(t);
      const m = new MessageWords(t);
      for (const w of [...set, ...probes]) {
        if (w === '') continue;
        expect(m.has(w), `${JSON.stringify(w)} in ${JSON.stringify(t.slice(0, 40))}`).toBe(set.has(w));
      }
      expect(new MessageWords(t).words()).toEqual(set);
    }
  });

  it('agrees on the dev lines with every word of every record form that could match them', () => {
    if (!hasShared()) return;
    const lines = readDevLines().slice(0, 1500).map((l) => l.line);
    const vocabulary = [...new Set(lines.flatMap((l) => [...messageWords(l)]))].slice(0, 4000);
    for (const line of lines) {
      const set = messageWords(line);
      const m = new MessageWords(line);
      for (const w of vocabulary) if (m.has(w) !== set.has(w)) expect({ line, w, has: m.has(w) }).toEqual({ line, w, has: set.has(w) });
    }
  });
});
