import { describe, expect, it } from 'vitest';

import { MARKER_SHARE, MIN_OTHER_DOMAINS, TechnologyIndex, buildSignatureIndex, primaryOf, rankMatches, type RankedMatch } from '../../../src/enrich/index.js';

import { kbOf, record } from '../../helpers/kb.js';

// A small KB in the shape of the real one: the same commonplace phrases under several technologies.
const kb = kbOf(
  record('mongodb/auth', '(Authentication failed|MongoServerError.*auth|SCRAM.*authentication)', { domain: 'mongodb', signature: 'MongoServerError: Authentication failed' }),
  record('mongodb/not-primary', 'MongoServerError.*not primary', { domain: 'mongodb', signature: 'MongoServerError: not primary' }),
  record('git/auth', 'Authentication failed', { domain: 'git', signature: "fatal: Authentication failed for 'https://github.com/u/r.git'" }),
  record('database/auth', 'password authentication failed', { domain: 'database', signature: 'FATAL: password authentication failed for user "app"' }),
  record('networking/refused', 'Connection refused|ECONNREFUSED', { domain: 'networking', signature: 'Connection refused (ECONNREFUSED)' }),
  record('node/econnrefused', 'connect ECONNREFUSED', { domain: 'node', signature: 'Error: connect ECONNREFUSED 127.0.0.1:5432' }),
  record('grpc/refused', 'connection refused', { domain: 'grpc', signature: 'failed to connect: connection refused' }),
  record('redis/refused', 'Connection refused', { domain: 'redis', signature: 'Error 111 connecting to localhost:6379. Connection refused.' }),
  record('networking/cert', 'certificate has expired|SSL_ERROR_EXPIRED_CERT_ALERT', { domain: 'networking', signature: 'SSL: certificate has expired' }),
  record('grpc/cert', 'certificate has expired', { domain: 'grpc', signature: 'transport: authentication handshake failed: x509: certificate has expired' }),
);
const ids = (...names: string[]): number[] => names.map((n) => kb.indexOf(n)!);
const rank = (text: string, matches: number[], whole?: string): RankedMatch[] => rankMatches(text, matches, kb, buildSignatureIndex(kb), (rs) => rs.map(() => 0), { minStrength: 0.5, ...(whole !== undefined ? { whole } : {}) });
const primaryId = (ranked: RankedMatch[], minStrength = 0.5): string | null => {
  const p = primaryOf(ranked, minStrength);
  return p === null ? null : kb.heads[p.index]!.id;
};

describe('technology markers', () => {
  const tech = new TechnologyIndex(kb);

  it(`are the words at least ${MARKER_SHARE * 100}% of whose records are in one domain, and one-word domain names`, () => {
    const mongo = tech.markers('mongodb');
    for (const w of ['mongoservererror', 'scram', 'mongodb']) expect(mongo.has(w), w).toBe(true);
    // Words several domains use mark none of them.
    for (const w of ['authentication', 'failed', 'connection', 'refused']) expect(mongo.has(w) || tech.markers('git').has(w) || tech.markers('networking').has(w), w).toBe(false);
    // ECONNREFUSED is networking's and node's: it marks neither.
    expect(tech.markers('networking').has('econnrefused')).toBe(false);
  });

  it('a record names its technology when a form of it holds one of its domain markers', () => {
    expect(tech.namesTechnology(kb.indexOf('mongodb/auth')!)).toBe(true);
    expect(tech.namesTechnology(kb.indexOf('networking/refused')!)).toBe(false);
  });
});

describe('a match ambiguous across technologies', () => {
  it('is no primary: a Kerberos line shows only the commonplace half of a MongoDB signature', () => {
    const line = 'Jun 30 20:53:04 combo klogind[19272]: Authentication failed from 163.27.187.39 (163.27.187.39): Permission denied in replay cache code';
    const ranked = rank(line, ids('mongodb/auth', 'git/auth'));
    expect(kb.heads[ranked[0]!.index]!.id).toBe('mongodb/auth');
    expect(ranked[0]!.strength).toBeGreaterThanOrEqual(0.5);
    expect(ranked[0]!.ambiguous).toBe(true);
    expect(primaryId(ranked)).toBeNull();
    // match.minStrength 0 keeps pure regex semantics.
    expect(primaryId(ranked, 0)).toBe('mongodb/auth');
    expect(rankMatches(line, ids('mongodb/auth', 'git/auth'), kb, buildSignatureIndex(kb), (rs) => rs.map(() => 0), { minStrength: 0 })[0]!.ambiguous).toBeUndefined();
  });

  it('is decided by the whole message: a MongoDB JSON log names SCRAM outside its message field', () => {
    const whole = '{"c":"ACCESS","msg":"Authentication failed","attr":{"mechanism":"SCRAM-SHA-256","user":"orders"}}';
    expect(primaryId(rank('Authentication failed', ids('mongodb/auth', 'git/auth')))).toBeNull();
    expect(primaryId(rank('Authentication failed', ids('mongodb/auth', 'git/auth'), whole))).toBe('mongodb/auth');
  });

  it('never applies to a message that shows the whole signature', () => {
    const ranked = rank('MongoServerError: Authentication failed', ids('mongodb/auth', 'git/auth'));
    expect(ranked[0]!.strength).toBe(1);
    expect(ranked[0]!.ambiguous).toBeUndefined();
    expect(primaryId(ranked)).toBe('mongodb/auth');
  });

  it("leaves the KB's generic record the answer to generic evidence", () => {
    const ranked = rank('sendmail[4306]: stat=Deferred: Connection refused by [127.0.0.1]', ids('networking/refused'));
    expect(ranked[0]!.ambiguous).toBeUndefined();
    expect(primaryId(ranked)).toBe('networking/refused');
  });

  it(`needs the evidence in ${MIN_OTHER_DOMAINS} other domains: a near-duplicate pair does not silence itself`, () => {
    // networking/cert names networking (SSL_ERROR_EXPIRED_CERT_ALERT); its evidence is in gRPC's record only.
    const ranked = rank('Get "https://api.example.com": x509: certificate has expired or is not yet valid', ids('networking/cert'));
    expect(ranked[0]!.strength).toBeLessThan(1);
    expect(ranked[0]!.ambiguous).toBeUndefined();
    expect(primaryId(ranked)).toBe('networking/cert');
  });
});
