/**
 * A streaming log-template miner in the manner of Drain (He et al., ICWS 2017): each line is masked
 * (variables become placeholders), split into tokens, and routed down a fixed-depth parse tree —
 * first by token count, then by its first `depth - 2` constant tokens — to a leaf holding a few
 * templates. The line joins the most similar template there (share of equal constant tokens ≥
 * `similarity`), turning the differing positions into `<*>`, or starts a new one. Constant tokens
 * are those without a placeholder: two lines that share only their time stamp are not one template.
 *
 * Masks: on the line, quoted strings <STR> and ISO-8601 time stamps <TIME>; then per token (edge
 * punctuation aside, and the value of a `key=value`): URLs and absolute paths <PATH>, IPv4 with
 * port <IP>, UUIDs <ID>, hex ids (0x… or 8+ hex digits mixing letters and digits) <HEX>, durations
 * (`250ms`, `1.5s`) <DUR>, numbers <NUM>, month and weekday names <TS>; in any other token, runs
 * of digits <NUM>.
 *
 * Bounded memory: at most `maxClusters` templates (least recently matched one evicted, its tree
 * branch pruned), each of at most `maxTokens` tokens and one example of at most `maxExampleChars`;
 * a tree node has at most `maxChildren` children (the rest route to `<*>`). So memory is
 * O(maxClusters · (maxTokens + maxExampleChars)) whatever the stream.
 */

export const WILDCARD = '<*>';
export const PLACEHOLDER = /<(NUM|HEX|IP|PATH|STR|DUR|ID|TS|TIME|\*)>/g;

export interface TemplateMinerOptions {
  /** Tree depth, counting the root and the token-count level. Default 4 (two leading tokens). */
  depth?: number;
  /** Share of equal positions for a line to join a template. Default 0.4. */
  similarity?: number;
  /** Children per tree node. Default 100. */
  maxChildren?: number;
  /** Templates kept (LRU). Default 1000. */
  maxClusters?: number;
  /** Tokens kept of a line. Default 64. */
  maxTokens?: number;
  /** Characters kept of a template's example line. Default 500. */
  maxExampleChars?: number;
}

export interface TemplateView {
  id: number;
  template: string;
  tokens: readonly string[];
  count: number;
  example: string;
}

/*
 * Masking is per token, with anchored tests on the token's core (edge punctuation stripped): a
 * scan of every position with unanchored, look-around-heavy regexes cost ~35 µs per line.
 * Only quoted strings and time stamps can span whitespace; they are replaced on the line first,
 * each only when a cheap test says the line can hold one.
 */
const STR = /"[^"\n]{0,256}"|(?<![\w])'[^'\n]{0,256}'/g;
const HAS_TIME = /\d{4}-\d\d-\d\d[T ]\d\d:/;
const TIME = /\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?(?![\w])/g;
const CALENDAR = new Set(['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun']);
const NUM = /^-?\d+(?:[.,:]\d+)*$/;
const IP = /^\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?$/;
const DUR = /^\d+(?:\.\d+)?(?:ms|us|ns|s|m|h)$/;
const UUID = /^[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}$/;
const HEX = /^0x[0-9a-fA-F]+$|^(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{8,}$/;
const PATH = /^(?:\/[^/\s]+){2,}\/?$/;
const URL = /^[A-Za-z][\w+.-]*:\/\/\S+$/;
const DIGITS = /(?:(?<=[_=:])-)?\d+(?:[.,:]\d+)*/g;
const OPEN = '[({<"\'';
const CLOSE = '])}>,;:."\'!?';

const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isAsciiLetter = (c: number): boolean => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);

/** The placeholder for a core that is one variable, or null. Dispatch on the first character keeps it to a test or two. */
function wholeVariable(core: string): string | null {
  const c = core.charCodeAt(0);
  if (isDigit(c) || c === 45 /* - */) {
    if (IP.test(core)) return '<IP>';
    if (NUM.test(core)) return '<NUM>';
    if (DUR.test(core)) return '<DUR>';
  }
  if (c === 47 /* / */) return PATH.test(core) ? '<PATH>' : null;
  if (UUID.test(core)) return '<ID>';
  if ((core.length >= 8 || core.startsWith('0x')) && HEX.test(core)) return '<HEX>';
  if (isAsciiLetter(c) && core.includes('://') && URL.test(core)) return '<PATH>';
  return null;
}

/** A token's core (edge punctuation off) as a placeholder if it is one variable, else with its digit runs masked. */
function maskCore(token: string): string {
  let a = 0;
  let b = token.length;
  while (a < b && OPEN.includes(token[a]!)) a++;
  while (b > a && CLOSE.includes(token[b - 1]!)) b--;
  const ph = a < b ? wholeVariable(token.slice(a, b)) : null;
  if (ph) return token.slice(0, a) + ph + token.slice(b);
  return token.replace(DIGITS, '<NUM>');
}

/** `Dec`, `[Sun`, `Mon,`: the calendar words of time stamps. */
function maskCalendar(token: string): string {
  let a = 0;
  let b = token.length;
  while (a < b && !isAsciiLetter(token.charCodeAt(a))) a++;
  while (b > a && !isAsciiLetter(token.charCodeAt(b - 1))) b--;
  return b - a === 3 && CALENDAR.has(token.slice(a, b)) ? `${token.slice(0, a)}<TS>${token.slice(b)}` : token;
}

function maskToken(token: string): string {
  let variable = false;
  for (let i = 0; i < token.length && !variable; i++) {
    const c = token.charCodeAt(i);
    variable = isDigit(c) || c === 47;
  }
  if (!variable) return maskCalendar(token);
  const whole = maskCore(token);
  if (whole !== token && !whole.includes('<NUM>')) return whole; // a URL or path with "=" in it
  const eq = token.indexOf('=');
  return eq > 0 ? `${token.slice(0, eq + 1)}${maskCore(token.slice(eq + 1))}` : whole;
}

/** The line's tokens (split on whitespace) with their variable parts replaced by placeholders. */
export function maskTokens(line: string): string[] {
  let s = line;
  if (s.includes('"') || s.includes("'")) s = s.replace(STR, '<STR>');
  if (HAS_TIME.test(s)) s = s.replace(TIME, '<TIME>');
  const out: string[] = [];
  for (const tok of s.split(/\s+/)) if (tok !== '') out.push(maskToken(tok));
  return out;
}

/** The line with its variable parts replaced by placeholders (runs of whitespace become one space). */
export function maskLine(line: string): string {
  return maskTokens(line).join(' ');
}

export function tokenize(line: string, maxTokens: number): string[] {
  const tokens = maskTokens(line);
  return tokens.length > maxTokens ? tokens.slice(0, maxTokens) : tokens;
}

function hasVariable(token: string): boolean {
  return /\d/.test(token) || token.includes('<');
}

interface TreeNode {
  children: Map<string, TreeNode>;
  clusters: Cluster[];
  parent: TreeNode | null;
  key: string;
}

interface Cluster {
  id: number;
  tokens: string[];
  count: number;
  example: string;
  leaf: TreeNode;
}

const node = (parent: TreeNode | null, key: string): TreeNode => ({ children: new Map(), clusters: [], parent, key });

export class TemplateMiner {
  private readonly depth: number;
  private readonly similarity: number;
  private readonly maxChildren: number;
  private readonly maxClusters: number;
  private readonly maxTokens: number;
  private readonly maxExampleChars: number;
  private readonly root = node(null, '');
  /** Insertion order is recency order: a match moves the cluster to the end; eviction takes the first. */
  private readonly clusters = new Map<number, Cluster>();
  private nextId = 1;
  /** Lines added, and templates evicted by the LRU cap, since creation. */
  lines = 0;
  evicted = 0;

  constructor(options: TemplateMinerOptions = {}) {
    this.depth = Math.max(3, options.depth ?? 4);
    this.similarity = options.similarity ?? 0.4;
    this.maxChildren = options.maxChildren ?? 100;
    this.maxClusters = options.maxClusters ?? 1000;
    this.maxTokens = options.maxTokens ?? 64;
    this.maxExampleChars = options.maxExampleChars ?? 500;
  }

  get size(): number {
    return this.clusters.size;
  }

  /** Adds one line; returns its template's id. */
  add(line: string): number {
    return this.addTokens(tokenize(line, this.maxTokens), line);
  }

  /**
   * `add(line)` for a line already masked elsewhere (`maskLine(line)`, e.g. on the thread that
   * selected it): the same template, without masking it again here.
   */
  addMasked(masked: string, line: string): number {
    const tokens = masked === '' ? [] : masked.split(' ');
    return this.addTokens(tokens.length > this.maxTokens ? tokens.slice(0, this.maxTokens) : tokens, line);
  }

  private addTokens(tokens: string[], line: string): number {
    this.lines++;
    const leaf = this.leafFor(tokens);
    let best: Cluster | null = null;
    let bestSim = -1;
    let bestParams = -1;
    let constants = 0;
    for (const t of tokens) if (!t.includes('<')) constants++;
    for (const c of leaf.clusters) {
      let same = 0;
      let params = 0;
      for (let i = 0; i < tokens.length; i++) {
        if (c.tokens[i] === WILDCARD) params++;
        else if (c.tokens[i] === tokens[i] && !tokens[i]!.includes('<')) same++;
      }
      const sim = constants === 0 ? 1 : same / constants;
      if (sim > bestSim || (sim === bestSim && params > bestParams)) {
        best = c;
        bestSim = sim;
        bestParams = params;
      }
    }
    if (best && bestSim >= this.similarity) {
      for (let i = 0; i < tokens.length; i++) if (best.tokens[i] !== tokens[i]) best.tokens[i] = WILDCARD;
      best.count++;
      this.clusters.delete(best.id);
      this.clusters.set(best.id, best);
      return best.id;
    }
    if (this.clusters.size >= this.maxClusters) this.evictOldest();
    const c: Cluster = { id: this.nextId++, tokens, count: 1, example: line.length > this.maxExampleChars ? line.slice(0, this.maxExampleChars) : line, leaf };
    leaf.clusters.push(c);
    this.clusters.set(c.id, c);
    return c.id;
  }

  /**
   * Routes by token count, then by the first `depth - 2` constant tokens (no digit, no placeholder).
   * Drain routes by the first tokens whatever they are; log lines mostly start with a time stamp,
   * which would send every line of a given length to one leaf and make each add scan all its templates.
   */
  private leafFor(tokens: readonly string[]): TreeNode {
    let cur = this.child(this.root, String(tokens.length));
    let levels = this.depth - 2;
    for (let i = 0; i < tokens.length && levels > 0; i++) {
      const t = tokens[i]!;
      if (hasVariable(t)) continue;
      levels--;
      cur = cur.children.has(t) || cur.children.size < this.maxChildren - 1 ? this.child(cur, t) : this.child(cur, WILDCARD);
    }
    return cur;
  }

  private child(parent: TreeNode, key: string): TreeNode {
    let c = parent.children.get(key);
    if (!c) {
      c = node(parent, key);
      parent.children.set(key, c);
    }
    return c;
  }

  private evictOldest(): void {
    const oldest = this.clusters.values().next().value;
    if (!oldest) return;
    this.clusters.delete(oldest.id);
    this.evicted++;
    const leaf = oldest.leaf;
    leaf.clusters.splice(leaf.clusters.indexOf(oldest), 1);
    // Prune the branch so the tree stays bounded by the templates it holds.
    let n: TreeNode = leaf;
    while (n.parent && n.clusters.length === 0 && n.children.size === 0) {
      n.parent.children.delete(n.key);
      n = n.parent;
    }
  }

  /** The `n` most frequent templates, most frequent first (ties: lower id first). */
  top(n: number): TemplateView[] {
    return [...this.clusters.values()]
      .sort((a, b) => b.count - a.count || a.id - b.id)
      .slice(0, n)
      .map((c) => ({ id: c.id, template: c.tokens.join(' '), tokens: [...c.tokens], count: c.count, example: c.example }));
  }

  /** Tree nodes below the root (for tests of the memory bound). */
  nodeCount(): number {
    let count = 0;
    const walk = (n: TreeNode): void => {
      for (const c of n.children.values()) {
        count++;
        walk(c);
      }
    };
    walk(this.root);
    return count;
  }
}
