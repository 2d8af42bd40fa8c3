/**
 * Which technology a message is about, as far as the knowledge base can tell, so that a partial match
 * does not put one technology's root cause on another's log line.
 *
 * Strength (strength.ts) asks how much of a record's signature a message shows. A broad record fails
 * that question in one way it cannot see: `MongoServerError: Authentication failed` is 0.62 shown by
 * a Kerberos `klogind: Authentication failed` line, because the two shown words are most of the
 * signature's weight. What is missing is the one word that says *MongoDB*, and what is shown is a
 * phrase the KB also knows from git, PostgreSQL and others. The message says an error; it does not
 * say whose.
 *
 * A match is **ambiguous** — listed, never the primary — when all of these hold:
 * 1. it is partial: strength below 1 (a message showing the whole signature or a whole form says it);
 * 2. its record *names* a technology: one of its forms' words is a marker of the record's domain
 *    (`MongoServerError`, `PERMISSION_DENIED`);
 * 3. the message holds no marker of that domain (a MongoDB server log says `SCRAM` or `mongod`) — the
 *    whole message, not only the scanned text: a JSON log's other fields (`"attr":{"mechanism":
 *    "SCRAM-SHA-256"}`, a service or logger name) say whose log it is;
 * 4. the words it shows (the evidence of its strongest form) all appear in the forms of a record in
 *    each of at least {@link MIN_OTHER_DOMAINS} other domains: the KB knows this same evidence under
 *    other technologies, so it is a commonplace phrase (`Authentication failed`, `Permission denied`),
 *    not this technology's.
 *
 * A record that names no technology (`Connection refused (ECONNREFUSED)` in `networking`) is the KB's
 * generic answer for generic evidence, and keeps it.
 *
 * Markers come from the KB alone, so they mean the same on any user's logs: a word (three or more
 * characters) of the records' signatures and regexes is a marker of domain D when at least
 * {@link MARKER_SHARE} of the records using it are in D; and a one-word domain's name (`mongodb`,
 * `nginx`, `grpc`) is a marker of itself.
 *
 * Pure: depends on the KB only. Built on first use from the words the KB snapshot keeps.
 */
import type { KnowledgeBase } from '../kb/index.js';
import { WORD } from '../kb/words.js';
import type { MessageWords } from './strength.js';

/** A word marks a domain when at least this share of the records using it are in that domain. */
export const MARKER_SHARE = 0.75;
/**
 * Evidence is commonplace when records of this many other domains hold it too. With one, a pair of
 * near-duplicate records in two domains (`SSL: certificate has expired` in networking and gRPC) would
 * silence each other.
 */
export const MIN_OTHER_DOMAINS = 2;
/** Shorter words (`io`, `db`, `fs`) mark nothing. */
export const MIN_MARKER_CHARS = 3;
/** Entries of the commonplace-evidence memo before it starts over. */
const MAX_COMMONPLACE_MEMO = 65_536;

interface Built {
  /** Domain → its marker words. */
  markers: Map<string, Set<string>>;
  /** Form word → the records with a form holding it. */
  postings: Map<string, number[]>;
}

export class TechnologyIndex {
  private built: Built | null = null;
  /** Per record: whether a form names its domain; undefined until asked. */
  private readonly named: (boolean | undefined)[];
  /** `commonplace` answers by record and evidence. */
  private readonly commonplaceMemo = new Map<string, boolean>();

  constructor(private readonly kb: KnowledgeBase) {
    this.named = new Array<boolean | undefined>(kb.size);
  }

  private formWords(i: number): Set<string> {
    const out = new Set(this.kb.signatureWords(i));
    for (const f of this.kb.regexWords(i).forms) for (const w of f) out.add(w);
    return out;
  }

  private get index(): Built {
    if (this.built !== null) return this.built;
    const n = this.kb.size;
    // word → records using it (signature or any regex alternative), and per domain
    const uses = new Map<string, { total: number; byDomain: Map<string, number> }>();
    const postings = new Map<string, number[]>();
    for (let i = 0; i < n; i++) {
      const domain = this.kb.heads[i]!.domain;
      const vocabulary = new Set(this.kb.signatureWords(i));
      for (const w of this.kb.regexWords(i).words) vocabulary.add(w);
      for (const w of vocabulary) {
        if (w.length < MIN_MARKER_CHARS) continue;
        let u = uses.get(w);
        if (u === undefined) uses.set(w, (u = { total: 0, byDomain: new Map() }));
        u.total++;
        u.byDomain.set(domain, (u.byDomain.get(domain) ?? 0) + 1);
      }
      for (const w of this.formWords(i)) {
        let p = postings.get(w);
        if (p === undefined) postings.set(w, (p = []));
        p.push(i);
      }
    }
    const markers = new Map<string, Set<string>>();
    const add = (map: Map<string, Set<string>>, d: string, w: string): void => {
      let m = map.get(d);
      if (m === undefined) map.set(d, (m = new Set()));
      m.add(w);
    };
    for (const [w, u] of uses) {
      for (const [d, k] of u.byDomain) {
        if (k / u.total >= MARKER_SHARE) add(markers, d, w);
      }
    }
    for (const h of this.kb.heads) {
      const name = h.domain.toLowerCase();
      if ((name.match(WORD) ?? []).length === 1 && name.match(WORD)![0] === name) {
        add(markers, h.domain, name);
      }
    }
    this.built = { markers, postings };
    return this.built;
  }

  /** The marker words of a domain (empty when it has none). */
  markers(domain: string): ReadonlySet<string> {
    return this.index.markers.get(domain) ?? new Set();
  }

  /** Whether a form of record `i` holds a marker of its own domain. */
  namesTechnology(i: number): boolean {
    let v = this.named[i];
    if (v === undefined) {
      const m = this.markers(this.kb.heads[i]!.domain);
      v = false;
      for (const w of this.formWords(i)) if (m.has(w)) v = true;
      this.named[i] = v;
    }
    return v;
  }

  /** Whether the message holds a marker of the domain. */
  mentions(domain: string, message: MessageWords): boolean {
    const m = this.markers(domain);
    if (m.size === 0) return false;
    for (const w of message.words()) if (m.has(w)) return true;
    return false;
  }

  /** Records of another domain than record `i`'s whose forms hold every word of `evidence`. */
  elsewhere(i: number, evidence: readonly string[]): number[] {
    if (evidence.length === 0) return [];
    const { postings } = this.index;
    const domain = this.kb.heads[i]!.domain;
    // Start from the rarest word's records.
    const lists = evidence.map((w) => postings.get(w) ?? []).sort((a, b) => a.length - b.length);
    const rest = lists.slice(1).map((l) => new Set(l));
    return lists[0]!.filter((j) => this.kb.heads[j]!.domain !== domain && rest.every((s) => s.has(j)));
  }

  /**
   * Whether a match of record `i` at `strength`, whose strongest form shows `evidence`, is ambiguous
   * on a message whose scanned text has these words (see the module comment). `whole`: the words of
   * the whole message when it is more than the scanned text (a JSON log), asked for only if needed.
   */
  ambiguous(i: number, strength: number, evidence: readonly string[], message: MessageWords, whole?: () => MessageWords): boolean {
    if (strength <= 0 || strength >= 1) return false;
    if (!this.namesTechnology(i)) return false;
    // Rule 4 before rule 3: it depends on the KB alone (remembered), rule 3 tokenizes the message.
    if (!this.commonplace(i, evidence)) return false;
    const domain = this.kb.heads[i]!.domain;
    return !(this.mentions(domain, message) || (whole !== undefined && this.mentions(domain, whole())));
  }

  /** Whether records of at least MIN_OTHER_DOMAINS other domains than record `i`'s hold all of `evidence`; remembered per record and evidence. */
  private commonplace(i: number, evidence: readonly string[]): boolean {
    const key = `${i} ${evidence.join(' ')}`;
    let v = this.commonplaceMemo.get(key);
    if (v === undefined) {
      const domains = new Set<string>();
      for (const j of this.elsewhere(i, evidence)) if (domains.add(this.kb.heads[j]!.domain).size >= MIN_OTHER_DOMAINS) break;
      v = domains.size >= MIN_OTHER_DOMAINS;
      // Bounded: evidence is a subset of one form's words, so a record has few; the cap guards a pathological KB.
      if (this.commonplaceMemo.size >= MAX_COMMONPLACE_MEMO) this.commonplaceMemo.clear();
      this.commonplaceMemo.set(key, v);
    }
    return v;
  }
}
