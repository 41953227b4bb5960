import type { TraceFacts } from "./diff.js";
import type { StepNode } from "./step-tree.js";
import type { CTFIssue } from "./types.js";

/**
 * One side of a diff with its final lineage packed: the step texts as UTF-8 bytes in one buffer, everything else in
 * typed arrays. A diff compares these bytes without decoding them, a worker thread hands them over without a copy
 * (the arrays are transferred), and the few steps a report lists are decoded when it asks for them.
 *
 * Step i: id `ids[i]`; tool `toolNames[tools[i]]`, null where `tools[i]` is -1; action bytes [offs[3i], offs[3i+1])
 * of `text`, observation [offs[3i+1], offs[3i+2]) (`text` is the loader's store: steps in the order they were read,
 * rewound ones included). A step whose action or observation UTF-8 cannot carry (a lone surrogate, written as an
 * escape) keeps its two strings in `exact`, by i.
 */
export interface PackedSide {
  facts: TraceFacts;
  ids: Float64Array;
  tools: Int32Array;
  toolNames: string[];
  text: Uint8Array;
  offs: Float64Array;
  exact: Map<number, [string, string]>;
  /** Every byte of `text` is below 0x80: a byte offset is a character offset. */
  ascii: boolean;
  q: Float64Array;
  issues: CTFIssue[];
}

/**
 * What packSide needs of the steps a loader read without decoding (fast-lines.ts scanStep), by the step's `ord`:
 * the bytes of its action and observation, copied into one growing store (the file's buffers are not kept: a
 * million events' worth of them would keep GC busy), and its tool. Steps without an entry have their text and
 * tool in their event. The store becomes the packed side's text as it is.
 */
export class ScannedSteps {
  /** Most text bytes the store holds (its offsets are Int32). */
  static readonly MAX_BYTES = 0x7fffffff;
  private store: Buffer;
  private used = 0;
  private ascii = true;
  /** Per ord, SLOTS slots: 1 (0: no entry), where its action starts, its observation, where it ends, tool id. */
  private slots: Int32Array;
  /** Tool id i names toolNames[i]; -1 is no tool. */
  readonly toolNames: string[] = [];
  private readonly toolIds = new Map<string, number>();
  private lastTool: string | null = null;
  private lastToolId = -1;

  /** Room for about `steps` steps and `textBytes` of their text to begin with (both grow as needed). */
  constructor(steps = 4096, textBytes = 1 << 20) {
    this.slots = new Int32Array(SLOTS * Math.max(1024, steps));
    this.store = ScannedSteps.bytes(Math.max(1 << 16, Math.min(ScannedSteps.MAX_BYTES, textBytes)));
  }

  /** Room for `bytes` more text (false past MAX_BYTES: such a step is not recorded). */
  fits(bytes: number): boolean {
    return this.used + bytes <= ScannedSteps.MAX_BYTES;
  }

  /** Records step `ord`: its action and observation are buf[aFrom, aTo) and buf[oFrom, oTo); see `fits`. */
  record(
    ord: number,
    buf: Uint8Array,
    aFrom: number,
    aTo: number,
    oFrom: number,
    oTo: number,
    tool: string | null,
    ascii: boolean,
  ): void {
    if (!ascii) this.ascii = false;
    this.reserve(aTo - aFrom + (oTo - oFrom));
    const at = SLOTS * ord;
    if (at + SLOTS > this.slots.length) {
      const grown = new Int32Array(Math.max(2 * this.slots.length, at + SLOTS));
      grown.set(this.slots);
      this.slots = grown;
    }
    const l = this.slots;
    l[at] = 1;
    l[at + 1] = this.used;
    const mid = copyRange(buf, aFrom, aTo, this.store, this.used);
    l[at + 2] = mid;
    this.used = copyRange(buf, oFrom, oTo, this.store, mid);
    l[at + 3] = this.used;
    l[at + 4] = this.toolId(tool);
  }

  /**
   * Appends the text of a step that has no entry (read by JSON.parse) as UTF-8, and writes where its action starts,
   * its observation starts and it ends to out[k, k+3).
   */
  appendText(action: string, observation: string, out: Float64Array, k: number): void {
    const a = Buffer.byteLength(action, "utf8");
    const o = Buffer.byteLength(observation, "utf8");
    if (!this.fits(a + o))
      throw new Error(`the lineage's text is too long to compare (over ${ScannedSteps.MAX_BYTES} bytes)`);
    this.reserve(a + o);
    if (a !== action.length || o !== observation.length) this.ascii = false;
    out[k] = this.used;
    this.used += this.store.write(action, this.used, "utf8");
    out[k + 1] = this.used;
    this.used += this.store.write(observation, this.used, "utf8");
    out[k + 2] = this.used;
  }

  /** Room in the store for `bytes` more. */
  private reserve(bytes: number): void {
    const need = this.used + bytes;
    if (need <= this.store.length) return;
    const grown = ScannedSteps.bytes(Math.min(ScannedSteps.MAX_BYTES, Math.max(2 * this.store.length, need)));
    this.store.copy(grown, 0, 0, this.used);
    this.store = grown;
  }

  /** A Buffer with its own ArrayBuffer (not Node's shared pool), so that it can be transferred to another thread. */
  private static bytes(n: number): Buffer {
    return Buffer.from(new ArrayBuffer(n));
  }

  /** The id of a tool name (-1: none), the same one for equal names. */
  toolId(tool: string | null): number {
    if (tool === this.lastTool) return this.lastToolId;
    let t = -1;
    if (tool !== null) {
      t = this.toolIds.get(tool) ?? -1;
      if (t < 0) {
        t = this.toolNames.push(tool) - 1;
        this.toolIds.set(tool, t);
      }
    }
    this.lastTool = tool;
    this.lastToolId = t;
    return t;
  }

  /** Where step `ord`'s slots start, or -1 when it has no entry. */
  slotsOf(ord: number): number {
    const at = SLOTS * ord;
    return at < this.slots.length && this.slots[at] !== 0 ? at : -1;
  }

  /** Slot k of a step's entry (see slotsOf). */
  slot(at: number, k: number): number {
    return this.slots[at + k] as number;
  }

  /** Every byte of the text so far is below 0x80. */
  get allAscii(): boolean {
    return this.ascii;
  }

  /** The text of the steps recorded: a step's action is [slot 1, slot 2), its observation [slot 2, slot 3). */
  get text(): Uint8Array {
    return this.store.subarray(0, this.used);
  }
}

const SLOTS = 5;

/** Lone UTF-16 surrogates: the one thing a string may hold that its UTF-8 bytes cannot give back. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Packs a lineage. Steps with an entry in `scanned` keep their bytes where the loader copied them; the others' text
 * is appended to them, encoded from their events as UTF-8.
 */
export function packSide(
  facts: TraceFacts,
  lineage: StepNode[],
  issues: CTFIssue[],
  q: Float64Array,
  scanned = new ScannedSteps(0, 0),
): PackedSide {
  const n = lineage.length;
  const ids = new Float64Array(n);
  const tools = new Int32Array(n);
  const offs = new Float64Array(3 * n);
  const exact = new Map<number, [string, string]>();
  for (let i = 0; i < n; i++) {
    const node = lineage[i] as StepNode;
    ids[i] = node.id;
    const at = scanned.slotsOf(node.ord);
    if (at >= 0) {
      tools[i] = scanned.slot(at, 4);
      offs[3 * i] = scanned.slot(at, 1);
      offs[3 * i + 1] = scanned.slot(at, 2);
      offs[3 * i + 2] = scanned.slot(at, 3);
    } else {
      const e = node.event;
      tools[i] = scanned.toolId(e.tool ?? null);
      if (LONE_SURROGATE.test(e.action) || LONE_SURROGATE.test(e.observation)) exact.set(i, [e.action, e.observation]);
      scanned.appendText(e.action, e.observation, offs, 3 * i);
    }
  }
  return {
    facts,
    ids,
    tools,
    toolNames: [...scanned.toolNames],
    text: scanned.text,
    offs,
    exact,
    ascii: scanned.allAscii,
    q,
    issues,
  };
}

/**
 * Copies src[from, to) to dst at `at`; returns where the copy ends. Step texts are short, where a loop beats a call
 * into the runtime.
 */
function copyRange(src: Uint8Array, from: number, to: number, dst: Uint8Array, at: number): number {
  if (to - from > 64) {
    dst.set(src.subarray(from, to), at);
    return at + to - from;
  }
  for (let k = from; k < to; k++) dst[at++] = src[k] as number;
  return at;
}

/** The tool of step i. */
export const packedTool = (p: PackedSide, i: number): string | null => {
  const t = p.tools[i] as number;
  return t < 0 ? null : (p.toolNames[t] as string);
};

/** The side itself, with its text as a Buffer (what a transfer between threads delivers is a plain Uint8Array). */
export function withBufferText(p: PackedSide): PackedSide {
  if (!Buffer.isBuffer(p.text)) p.text = Buffer.from(p.text.buffer, p.text.byteOffset, p.text.byteLength);
  return p;
}

/** An ASCII side's whole text as one string, decoded once: its fields are then slices of it, not decodes each. */
const asciiText = new WeakMap<PackedSide, string>();

/** Field f (1 action, 2 observation) of step i, as the string the trace holds. */
export function packedText(p: PackedSide, i: number, f: 1 | 2): string {
  const x = p.exact.size === 0 ? undefined : p.exact.get(i);
  if (x) return x[f - 1] as string;
  const from = p.offs[3 * i + f - 1] as number;
  const to = p.offs[3 * i + f] as number;
  const text = withBufferText(p).text as Buffer;
  if (!p.ascii) return text.toString("utf8", from, to);
  let whole = asciiText.get(p);
  if (whole === undefined) {
    whole = text.toString("latin1");
    asciiText.set(p, whole);
  }
  return whole.slice(from, to);
}

/** Step i's text is its bytes (it has no exact strings; nearly always none has). */
const bytesOnly = (p: PackedSide, i: number): boolean => p.exact.size === 0 || !p.exact.has(i);

/** Bytes [x0, x0 + len) of x equal [y0, y0 + len) of y. */
function sameBytes(x: Uint8Array, x0: number, y: Uint8Array, y0: number, len: number): boolean {
  for (let k = 0; k < len; k++) if (x[x0 + k] !== y[y0 + k]) return false;
  return true;
}

/**
 * Field f (1 action, 2 observation) of step i is the same string on both sides. Equal bytes are equal strings;
 * unequal bytes are compared decoded, since two invalid UTF-8 sequences may decode alike.
 */
export function samePackedText(a: PackedSide, b: PackedSide, i: number, f: 1 | 2): boolean {
  if (bytesOnly(a, i) && bytesOnly(b, i)) {
    const as = a.offs[3 * i + f - 1] as number;
    const bs = b.offs[3 * i + f - 1] as number;
    const len = (a.offs[3 * i + f] as number) - as;
    if (len === (b.offs[3 * i + f] as number) - bs && sameBytes(a.text, as, b.text, bs, len)) return true;
  }
  return packedText(a, i, f) === packedText(b, i, f);
}

/**
 * Length of the common prefix of two packed lineages: the first index where the steps differ in tool, action or
 * observation (see samePackedText), or n.
 */
export function packedCommonPrefix(a: PackedSide, b: PackedSide, n: number): number {
  // b's tool ids as a's (-2: a name a does not have; names are unique on a side), so that tools compare as integers.
  const bToA = b.toolNames.map((t) => {
    const x = a.toolNames.indexOf(t);
    return x < 0 ? -2 : x;
  });
  const ao = a.offs;
  const bo = b.offs;
  for (let i = 0; i < n; i++) {
    const tb = b.tools[i] as number;
    if ((tb < 0 ? -1 : bToA[tb]) !== a.tools[i]) return i;
    const as = ao[3 * i] as number;
    const bs = bo[3 * i] as number;
    const len = (ao[3 * i + 2] as number) - as;
    // The common case, the whole step's bytes at once; anything else field by field.
    const sameShape =
      len === (bo[3 * i + 2] as number) - bs && (ao[3 * i + 1] as number) - as === (bo[3 * i + 1] as number) - bs;
    if (sameShape && bytesOnly(a, i) && bytesOnly(b, i) && sameBytes(a.text, as, b.text, bs, len)) continue;
    if (!samePackedText(a, b, i, 1) || !samePackedText(a, b, i, 2)) return i;
  }
  return n;
}
