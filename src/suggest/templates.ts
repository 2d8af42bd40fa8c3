/**
 * A streaming log-template miner in the manner of Drain (He et al., ICWS 2017): each line is masked
 * (variables become placeholders), split into tokens, and routed down a fixed-depth parse tree —
 * first by token count, then by its first `depth - 2` tokens — to a leaf holding a few templates.
 * The line joins the most similar template there (share of equal tokens ≥ `similarity`), turning
 * the differing positions into `<*>`, or starts a new one.
 *
 * Masks (in this order): quoted strings <STR>, ISO-8601 time stamps <TIME>, UUIDs <ID>, IPv4 addresses (with port) <IP>,
 * absolute paths and URLs <PATH>, hex ids (0x… or 8+ hex digits with a digit) <HEX>,
 * durations (`250ms`, `1.5s`) <DUR>, month and weekday names <TS>, numbers <NUM>.
 * Similarity counts constant tokens only (those without a placeholder): two lines that share only
 * their time stamp are not the same template.
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

const MASKS: [RegExp, string][] = [
  [/"[^"\n]{0,256}"|'[^'\n]{0,256}'/g, '<STR>'],
  [/\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?(?![\w])/g, '<TIME>'],
  [/\b[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}\b/g, '<ID>'],
  [/(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?(?![\d.])/g, '<IP>'],
  [/\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+|(?<![\w.~])(?:\/[\w.@%+~-]+){2,}\/?/gi, '<PATH>'],
  [/\b0x[0-9a-fA-F]+\b|\b(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{8,}\b/g, '<HEX>'],
  [/(?<![\w.])\d+(?:\.\d+)?(?:ms|us|ns|s|m|h)(?![\w])/g, '<DUR>'],
  [/\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec|Mon|Tue|Wed|Thu|Fri|Sat|Sun)\b/g, '<TS>'],
  [/(?:(?<=[\s=:_([,])-)?\d+(?:[.,:]\d+)*/g, '<NUM>'],
];

/** The line with its variable parts replaced by placeholders. */
export function maskLine(line: string): string {
  let s = line;
  for (const [re, ph] of MASKS) s = s.replace(re, ph);
  return s;
}

export function tokenize(masked: string, maxTokens: number): string[] {
  const tokens = masked.split(/\s+/).filter((t) => t !== '');
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
    this.lines++;
    const tokens = tokenize(maskLine(line), this.maxTokens);
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

  private leafFor(tokens: readonly string[]): TreeNode {
    let cur = this.child(this.root, String(tokens.length));
    const levels = Math.min(this.depth - 2, tokens.length);
    for (let i = 0; i < levels; i++) {
      const t = tokens[i]!;
      const key = hasVariable(t) ? WILDCARD : t;
      cur = cur.children.has(key) || cur.children.size < this.maxChildren - 1 ? this.child(cur, key) : this.child(cur, WILDCARD);
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
