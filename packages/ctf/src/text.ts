/** Text similarity for semantic_drift (spec/ctf/v0.1/q_metrics.md). Dependency-free and deterministic. */

/** A pluggable text model: any text → vector map (e.g. a sentence-embedding model). */
export interface Embedder {
  /** Written to the header's `embedder` field so readers know which model produced the drift. */
  readonly name: string;
  embed(text: string): ArrayLike<number>;
}

const STOP_WORDS = new Set("a an and are as at be by for from in is it of on or that the this to was with".split(" "));
const WORD_CHAR = /^[\p{L}\p{N}]$/u;

/** True when code unit(s) at `i` start a letter or digit; returns the width (1 or 2 code units) or 0. */
function wordCharWidth(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if ((c >= 97 && c <= 122) || (c >= 48 && c <= 57)) return 1; // ASCII fast path (text is lower-cased)
  if (c < 128) return 0;
  if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
    const cp = s.codePointAt(i)!;
    return WORD_CHAR.test(String.fromCodePoint(cp)) ? 2 : 0;
  }
  return WORD_CHAR.test(s[i]) ? 1 : 0;
}

/** Reused by every ASCII scan: tokens wait here until the text is known to be pure ASCII. */
const pending: string[] = [];

/**
 * Calls `emit` for every token of a text: lower-cased, split on every run of characters that are not
 * Unicode letters or digits, 1-char tokens and stop words dropped. Same tokens as
 * `text.toLowerCase().split(/[^\p{L}\p{N}]+/u)` filtered (a property test checks it).
 */
export function forEachToken(text: string, emit: (token: string) => void): void {
  // Pure-ASCII text (the common case) is scanned as is and only tokens with capitals are lower-cased;
  // other text is lower-cased first, because lower-casing can change its length.
  pending.length = 0;
  if (scan(text, true)) {
    for (let i = 0; i < pending.length; i++) emit(pending[i]);
  } else {
    pending.length = 0;
    scan(text.toLowerCase(), false);
    for (let i = 0; i < pending.length; i++) emit(pending[i]);
  }
  pending.length = 0;
}

/** Token counts of a text (see forEachToken), added to `into`. */
export function termCounts(text: string, into: Map<string, number> = new Map()): Map<string, number> {
  forEachToken(text, (t) => into.set(t, (into.get(t) ?? 0) + 1));
  return into;
}

/** Pushes the tokens of `s` to `pending`; in ASCII mode returns false at the first non-ASCII char. */
function scan(s: string, ascii: boolean): boolean {
  const n = s.length;
  let i = 0;
  while (i < n) {
    let c = s.charCodeAt(i);
    let upper = false;
    let w: number;
    if (ascii) {
      if (c >= 128) return false;
      upper = c >= 65 && c <= 90;
      w = upper || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) ? 1 : 0;
    } else w = wordCharWidth(s, i);
    if (w === 0) {
      i++;
      continue;
    }
    const start = i;
    while (w > 0) {
      i += w;
      if (i >= n) break;
      if (ascii) {
        c = s.charCodeAt(i);
        if (c >= 128) return false;
        const up = c >= 65 && c <= 90;
        upper ||= up;
        w = up || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) ? 1 : 0;
      } else w = wordCharWidth(s, i);
    }
    if (i - start < 2) continue; // 1-char tokens carry no topic
    const tok = upper ? s.slice(start, i).toLowerCase() : s.slice(start, i);
    if (!STOP_WORDS.has(tok)) pending.push(tok);
  }
  return true;
}

/** ln(1 + k) for small k: idf needs one per term per step, a table lookup beats Math.log. */
const LN1P = Float64Array.from({ length: 4096 }, (_, k) => Math.log(1 + k));
const ln1p = (k: number) => (k < 4096 ? LN1P[k] : Math.log(1 + k));

/** A text as term ids (first-occurrence order) with their counts. */
export interface TermVector {
  ids: number[];
  counts: number[];
}

/**
 * Document frequencies over a corpus that grows and shrinks with the current lineage, so
 * semantic_drift after a rewind is recomputed on the kept lineage only. Terms are interned to
 * integer ids so the per-step work is array arithmetic rather than string-keyed maps.
 */
export class TfIdfCorpus {
  private readonly vocab = new Map<string, number>();
  private readonly df: number[] = [];
  /** Scratch: position + 1 of a term id in the vector being built or compared; always reset to 0. */
  private pos = new Int32Array(1024);
  /** Number of documents currently in the corpus. */
  size = 0;

  private idOf(term: string): number {
    let id = this.vocab.get(term);
    if (id === undefined) {
      id = this.df.length;
      this.vocab.set(term, id);
      this.df.push(0);
      if (id >= this.pos.length) {
        const grown = new Int32Array(this.pos.length * 2);
        grown.set(this.pos);
        this.pos = grown;
      }
    }
    return id;
  }

  /** Term vector of the concatenation of `texts` (as if joined by spaces). */
  vector(...texts: string[]): TermVector {
    const ids: number[] = [];
    const counts: number[] = [];
    const pos = () => this.pos;
    for (const text of texts) {
      forEachToken(text, (tok) => {
        const id = this.idOf(tok);
        const p = pos()[id];
        if (p > 0) counts[p - 1]++;
        else {
          ids.push(id);
          counts.push(1);
          this.pos[id] = ids.length;
        }
      });
    }
    for (const id of ids) this.pos[id] = 0;
    return { ids, counts };
  }

  addVector(v: TermVector): void {
    this.size++;
    for (const id of v.ids) this.df[id]++;
  }

  removeVector(v: TermVector): void {
    this.size--;
    for (const id of v.ids) this.df[id]--;
  }

  private idfOf(id: number): number {
    return ln1p(this.size) - ln1p(this.df[id]) + 1;
  }

  /** Cosine of the TF-IDF vectors of two term vectors; 0 when either is empty. */
  cosineVectors(a: TermVector, b: TermVector): number {
    if (a.ids.length === 0 || b.ids.length === 0) return 0;
    const pos = this.pos;
    const df = this.df;
    // idf = ln(1 + N) − ln(1 + df) + 1, with ln(1 + N) taken once per comparison.
    const lnN = ln1p(this.size);
    for (let i = 0; i < b.ids.length; i++) pos[b.ids[i]] = i + 1;
    let dot = 0;
    let na = 0;
    let nb = 0;
    for (let i = 0; i < a.ids.length; i++) {
      const id = a.ids[i];
      const d = df[id];
      const idf = lnN - (d < 4096 ? LN1P[d] : Math.log(1 + d)) + 1;
      const w = a.counts[i] * idf;
      na += w * w;
      const p = pos[id];
      if (p > 0) dot += w * b.counts[p - 1] * idf;
    }
    for (let i = 0; i < b.ids.length; i++) {
      const id = b.ids[i];
      const d = df[id];
      const w = b.counts[i] * (lnN - (d < 4096 ? LN1P[d] : Math.log(1 + d)) + 1);
      nb += w * w;
      pos[id] = 0;
    }
    return dot / Math.sqrt(na * nb);
  }

  // String-keyed conveniences (tests, callers outside the runtime).
  add(terms: Iterable<string>): void {
    this.addVector({ ids: [...terms].map((t) => this.idOf(t)), counts: [] });
  }
  remove(terms: Iterable<string>): void {
    this.removeVector({ ids: [...terms].map((t) => this.idOf(t)), counts: [] });
  }
  idf(term: string): number {
    return this.idfOf(this.idOf(term));
  }
  cosine(a: Map<string, number>, b: Map<string, number>): number {
    const vec = (m: Map<string, number>): TermVector => ({
      ids: [...m.keys()].map((t) => this.idOf(t)),
      counts: [...m.values()],
    });
    return this.cosineVectors(vec(a), vec(b));
  }
}

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = Math.min(a.length, b.length);
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < n; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}
