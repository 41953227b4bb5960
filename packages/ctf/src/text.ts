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
  return WORD_CHAR.test(s.charAt(i)) ? 1 : 0;
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
    for (const token of pending) emit(token);
  } else {
    pending.length = 0;
    scan(text.toLowerCase(), false);
    for (const token of pending) emit(token);
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

/**
 * ln(1 + k), memoised: idf needs one per term per step, and the document frequencies of common terms
 * climb into the hundreds of thousands on long traces, where Math.log on every lookup was most of the
 * cosine. Entries are filled on first use (0 = not yet; ln(1 + k) > 0 for k ≥ 1) with exactly
 * Math.log(1 + k), so results are the same bits as calling it. Grows by doubling up to LN1P_MAX.
 */
let LN1P = Float64Array.from({ length: 4096 }, (_, k) => Math.log(1 + k));
const LN1P_MAX = 1 << 21;

function ln1pSlow(k: number): number {
  if (k >= LN1P.length) {
    if (k >= LN1P_MAX) return Math.log(1 + k);
    let n = LN1P.length * 2;
    while (n <= k) n *= 2;
    const t = new Float64Array(n);
    t.set(LN1P);
    LN1P = t;
  }
  const v = Math.log(1 + k);
  LN1P[k] = v;
  return v;
}

function ln1p(k: number): number {
  const v = LN1P[k] ?? 0; // undefined past the table: computed and cached by ln1pSlow
  return v !== 0 || k === 0 ? v : ln1pSlow(k);
}

/**
 * A text as term ids (first-occurrence order) with their counts, in the first `length` slots of
 * `ids` / `counts`. Buffers grow as needed and may be reused (see TfIdfCorpus.vectorInto).
 */
export class TermVector {
  ids = new Int32Array(16);
  /** Raw term counts (a double each, like any count a caller passes to `cosine`). */
  counts = new Float64Array(16);
  length = 0;
}

/** FNV-1a over UTF-16 code units: one xor and one multiply per character while scanning. */
const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 0x01000193;

/** ASCII code → its lower-cased form if it is a letter or digit, else 0 (a token separator). */
const ASCII_WORD = Uint16Array.from({ length: 128 }, (_, c) =>
  (c >= 97 && c <= 122) || (c >= 48 && c <= 57) ? c : c >= 65 && c <= 90 ? c | 32 : 0,
);

function grow<T extends Int32Array | Float64Array | Uint8Array | Uint16Array>(a: T, min: number): T {
  let n = a.length * 2;
  while (n < min) n *= 2;
  const b = new (a.constructor as new (n: number) => T)(n);
  b.set(a);
  return b;
}

/**
 * Document frequencies over a corpus that grows and shrinks with the current lineage, so
 * semantic_drift after a rewind is recomputed on the kept lineage only. Terms are interned to
 * integer ids so the per-step work is array arithmetic rather than string-keyed maps.
 *
 * Interning hashes the (lower-cased) characters of a token while the text is scanned and compares
 * them with a pool of known terms, so a token already seen costs no string, no slice and no Map
 * lookup. Stop words are interned up front and flagged. The tokens are exactly those of
 * forEachToken (text.test.ts checks it on arbitrary Unicode text).
 */
/**
 * The corpus is the runtime's hot path (bench/ctf): flat typed arrays read at indices that are in range by
 * construction (a slot is masked to the table, a term id is below `terms`, a loop index below a length), so those
 * reads are asserted (`!`) rather than checked once per character.
 */
export class TfIdfCorpus {
  /** Open-addressing table: slot → term id + 1 (0 = empty); power-of-two size, at most half full. */
  private table = new Int32Array(1024);
  private termHash = new Int32Array(256);
  private termOff = new Int32Array(256);
  private termLen = new Int32Array(256);
  /** 1 for stop words (interned so a scan can drop them by id). */
  private stop = new Uint8Array(256);
  private df = new Int32Array(256);
  /** Characters of every term, back to back. */
  private pool = new Uint16Array(4096);
  private poolLen = 0;
  private terms = 0;
  /** Scratch: position + 1 of a term id in the vector being built or compared; always reset to 0. */
  private pos = new Int32Array(256);
  /** Scratch: the token ids of the text being scanned, before they are counted into a vector. */
  private tok = new Int32Array(256);
  private nTok = 0;
  /** Number of documents currently in the corpus. */
  size = 0;

  constructor() {
    for (const w of STOP_WORDS) this.stop[this.idOf(w)] = 1;
  }

  /** Id of a term given as a string (already lower-cased). */
  private idOf(term: string): number {
    let h = FNV_OFFSET;
    for (let i = 0; i < term.length; i++) h = Math.imul(h ^ term.charCodeAt(i), FNV_PRIME);
    const mask = this.table.length - 1;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const e = this.table[slot]!;
      if (e === 0) return this.insert(slot, h, term, 0, term.length, false);
      const id = e - 1;
      if (this.termHash[id] !== h || this.termLen[id] !== term.length) continue;
      const off = this.termOff[id]!;
      let k = 0;
      while (k < term.length && this.pool[off + k] === term.charCodeAt(k)) k++;
      if (k === term.length) return id;
    }
  }

  /** Interns `s[from, to)` (lower-cased when `lower`) at an empty `slot` found for hash `h`. */
  private insert(slot: number, h: number, s: string, from: number, to: number, lower: boolean): number {
    const id = this.terms++;
    const len = to - from;
    if (id >= this.termHash.length) {
      const n = this.termHash.length * 2;
      this.termHash = grow(this.termHash, n);
      this.termOff = grow(this.termOff, n);
      this.termLen = grow(this.termLen, n);
      this.df = grow(this.df, n);
      this.pos = grow(this.pos, n);
      this.stop = grow(this.stop, n);
    }
    if (this.poolLen + len > this.pool.length) this.pool = grow(this.pool, this.poolLen + len);
    for (let k = 0; k < len; k++) {
      const c = s.charCodeAt(from + k);
      this.pool[this.poolLen + k] = lower && c >= 65 && c <= 90 ? c | 32 : c;
    }
    this.termHash[id] = h;
    this.termOff[id] = this.poolLen;
    this.termLen[id] = len;
    this.poolLen += len;
    this.table[slot] = id + 1;
    if (this.terms * 2 > this.table.length) this.rehash();
    return id;
  }

  private rehash(): void {
    const table = new Int32Array(this.table.length * 2);
    const mask = table.length - 1;
    for (let id = 0; id < this.terms; id++) {
      let slot = this.termHash[id]! & mask;
      while (table[slot] !== 0) slot = (slot + 1) & mask;
      table[slot] = id + 1;
    }
    this.table = table;
  }

  /** Appends a token id to the scan buffer. */
  private pushTok(id: number): void {
    if (this.nTok === this.tok.length) this.tok = grow(this.tok, this.nTok + 1);
    this.tok[this.nTok++] = id;
  }

  /**
   * Scans pure-ASCII text into the token buffer, hashing each token's lower-cased characters as it
   * goes; returns false at the first non-ASCII character (the caller then takes the Unicode path).
   */
  private scanAscii(s: string): boolean {
    const n = s.length;
    const lower = ASCII_WORD;
    let i = 0;
    while (i < n) {
      let c = s.charCodeAt(i);
      if (c >= 128) return false;
      let l = lower[c]!;
      if (l === 0) {
        i++;
        continue;
      }
      const start = i;
      let upper = 0;
      let h = FNV_OFFSET;
      for (;;) {
        upper |= l ^ c; // non-zero once a capital was lower-cased
        h = Math.imul(h ^ l, FNV_PRIME);
        if (++i >= n) break;
        c = s.charCodeAt(i);
        if (c >= 128) return false;
        l = lower[c]!;
        if (l === 0) break;
      }
      const len = i - start;
      if (len < 2) continue; // 1-char tokens carry no topic
      const table = this.table;
      const mask = table.length - 1;
      let id = -1;
      for (let slot = h & mask; ; slot = (slot + 1) & mask) {
        const e = table[slot]!;
        if (e === 0) {
          id = this.insert(slot, h, s, start, i, upper !== 0);
          break;
        }
        const cand = e - 1;
        if (this.termHash[cand] !== h || this.termLen[cand] !== len) continue;
        const pool = this.pool;
        const off = this.termOff[cand]! - start;
        let k = start;
        if (upper !== 0) while (k < i && pool[off + k] === lower[s.charCodeAt(k)]) k++;
        else while (k < i && pool[off + k] === s.charCodeAt(k)) k++;
        if (k === i) {
          id = cand;
          break;
        }
      }
      if (this.stop[id] === 0) this.pushTok(id);
    }
    return true;
  }

  /** Puts the token ids of `text` into the scan buffer. */
  private scanText(text: string): void {
    this.nTok = 0;
    if (this.scanAscii(text)) return;
    this.nTok = 0;
    forEachToken(text, (t) => this.pushTok(this.idOf(t)));
  }

  /** Counts the scan buffer's tokens into `out` (pos holds each id's place in `out`). */
  private countInto(out: TermVector): void {
    const pos = this.pos;
    const tok = this.tok;
    for (let t = 0; t < this.nTok; t++) {
      const id = tok[t]!;
      const p = pos[id]!;
      if (p > 0) out.counts[p - 1]!++;
      else {
        const len = out.length;
        if (len === out.ids.length) {
          out.ids = grow(out.ids, len + 1);
          out.counts = grow(out.counts, len + 1);
        }
        out.ids[len] = id;
        out.counts[len] = 1;
        out.length = len + 1;
        pos[id] = len + 1;
      }
    }
  }

  /**
   * Term vector of `a` followed by `b` (as if joined by a space), written into `out` (reused:
   * a caller that scores every step needs no new arrays). Returns `out`.
   */
  vectorInto(out: TermVector, a: string, b?: string): TermVector {
    out.length = 0;
    this.scanText(a);
    this.countInto(out);
    if (b !== undefined) {
      this.scanText(b);
      this.countInto(out);
    }
    const pos = this.pos;
    for (let i = 0; i < out.length; i++) pos[out.ids[i]!] = 0;
    return out;
  }

  /** Term vector of the concatenation of `texts` (as if joined by spaces). */
  vector(...texts: string[]): TermVector {
    const out = new TermVector();
    for (const text of texts) {
      this.scanText(text);
      this.countInto(out);
    }
    for (let i = 0; i < out.length; i++) this.pos[out.ids[i]!] = 0;
    return out;
  }

  addVector(v: TermVector): void {
    this.size++;
    for (let i = 0; i < v.length; i++) this.df[v.ids[i]!]!++;
  }

  removeVector(v: TermVector): void {
    this.size--;
    for (let i = 0; i < v.length; i++) this.df[v.ids[i]!]!--;
  }

  private idfOf(id: number): number {
    return ln1p(this.size) - ln1p(this.df[id]!) + 1;
  }

  /** Cosine of the TF-IDF vectors of two term vectors; 0 when either is empty. */
  cosineVectors(a: TermVector, b: TermVector): number {
    const na_ = a.length;
    const nb_ = b.length;
    if (na_ === 0 || nb_ === 0) return 0;
    const pos = this.pos;
    const df = this.df;
    const aIds = a.ids;
    const aCounts = a.counts;
    const bIds = b.ids;
    const bCounts = b.counts;
    // idf = ln(1 + N) − ln(1 + df) + 1, with ln(1 + N) taken once per comparison.
    const lnN = ln1p(this.size);
    for (let i = 0; i < nb_; i++) pos[bIds[i]!] = i + 1;
    let dot = 0;
    let na = 0;
    let nb = 0;
    for (let i = 0; i < na_; i++) {
      const id = aIds[i]!;
      const d = df[id]!;
      const idf = lnN - ln1p(d) + 1;
      const w = aCounts[i]! * idf;
      na += w * w;
      const p = pos[id]!;
      if (p > 0) dot += w * bCounts[p - 1]! * idf;
    }
    for (let i = 0; i < nb_; i++) {
      const id = bIds[i]!;
      const d = df[id]!;
      const w = bCounts[i]! * (lnN - ln1p(d) + 1);
      nb += w * w;
      pos[id] = 0;
    }
    return dot / Math.sqrt(na * nb);
  }

  // String-keyed conveniences (tests, callers outside the runtime).
  private vec(terms: Iterable<string>, counts?: Iterable<number>): TermVector {
    const v = new TermVector();
    const ids = [...terms].map((t) => this.idOf(t));
    const cs = counts ? [...counts] : [];
    v.ids = Int32Array.from(ids);
    v.counts = Float64Array.from(ids, (_, i) => cs[i] ?? 1);
    v.length = ids.length;
    return v;
  }
  add(terms: Iterable<string>): void {
    this.addVector(this.vec(terms));
  }
  remove(terms: Iterable<string>): void {
    this.removeVector(this.vec(terms));
  }
  idf(term: string): number {
    return this.idfOf(this.idOf(term));
  }
  cosine(a: Map<string, number>, b: Map<string, number>): number {
    return this.cosineVectors(this.vec(a.keys(), a.values()), this.vec(b.keys(), b.values()));
  }
}

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = Math.min(a.length, b.length);
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < n; i++) {
    const x = a[i]!;
    const y = b[i]!;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}
