import { stat } from "node:fs/promises";
import { Worker } from "node:worker_threads";
import { type DiffSide, type TraceFacts, unpackSide } from "./diff.js";
import {
  isStatusLine,
  matchQ,
  matchStep,
  Q_VALUES,
  readByteLines,
  STEP_FIELDS,
  scannedStep,
  scanStep,
} from "./fast-lines.js";
import { type PackedSide, packSide, ScannedSteps } from "./packed-side.js";
import { BadLine, parseCTFRawLines, parseLine } from "./reader.js";
import type { StepNode } from "./step-tree.js";
import { type CorridorStatus, type CTFIssue, Q_METRICS, type QEvent, type StatusEvent } from "./types.js";
import { CTFValidator } from "./validator.js";

/** Diff input is loaded without the schema check: diff compares, `validate` judges; the replay still enforces the rules. */
export const DIFF_LOAD_OPTIONS = { recompute: false, skipSchema: true, requireFooter: false } as const;

/** Above this size a file is loaded in a worker thread, so two big traces are read on two cores. */
const WORKER_MIN_BYTES = 16 * 1024 * 1024;

const STATUS_PREFIX = '{"type":"status"';
const M = Q_METRICS.length;
/** File bytes per step in RTT's traces (a step, its q and its status line), for sizing arrays up front. */
const BYTES_PER_STEP = 512;
/** Most steps a side is sized for up front (~250 MB of q values and text slots); beyond, its arrays grow. */
const PRESIZE_MAX_STEPS = 1 << 22;

/**
 * Loads one side of a diff. Status lines are not needed (the footer carries the final status) and
 * are a third of a trace, so lines that start exactly like RTT's status events are not parsed; the
 * last one is kept raw for traces without a footer. Everything else is replayed as usual.
 */
export async function loadDiffSide(path: string): Promise<DiffSide> {
  return (await readSide(path)).finish();
}

/** loadDiffSide for a worker thread: the side packed for the hop back (see PackedSide). */
export async function loadPackedDiffSide(path: string): Promise<PackedSide> {
  return (await readSide(path)).finish(true);
}

/** Every line of the file at `path` through a SideLoader sized for it. */
async function readSide(path: string): Promise<SideLoader> {
  const side = new SideLoader((await stat(path)).size);
  await readByteLines(path, side.onBytes, undefined, side.beforeReuse);
  return side;
}

/** loadDiffSide over text in memory (a trace stored in a database rather than a file). */
export function loadDiffSideText(text: string): DiffSide {
  const side = new SideLoader(0);
  parseCTFRawLines(text, side.onRaw);
  return side.finish();
}

class SideLoader {
  private readonly v = new CTFValidator({ ...DIFF_LOAD_OPTIONS, checkFinalStatus: false });
  private lastStatus: string | null = null;
  /** The last status line read as bytes (fields, not an object: there is one per step). */
  private lastStatusBuf: Buffer | null = null;
  private lastStatusStart = 0;
  private lastStatusEnd = 0;
  private rewinds = 0;
  /** The last status line keeps its bytes where they were read, until readByteLines reuses that buffer. */
  readonly beforeReuse = (buf: Buffer): void => {
    if (buf !== this.lastStatusBuf) return;
    this.lastStatusBuf = Buffer.from(buf.subarray(this.lastStatusStart, this.lastStatusEnd));
    this.lastStatusEnd -= this.lastStatusStart;
    this.lastStatusStart = 0;
  };
  /**
   * q values of q lines read without an object (fast-lines.ts), five per step by its `ord`; a step whose `q` is set
   * was described last by a parsed q event, one whose `q` is unset by these values (NaN: none).
   */
  private q: Float64Array;
  /** The text and tool of each step read by scanStep (such a step's event carries no text; see `scanned`). */
  private readonly scannedSteps: ScannedSteps;

  /**
   * `fileBytes`: the size of the file, from which what is kept per step is sized up front (RTT's traces hold ~500
   * bytes per step, a sixth of them action and observation text): arrays grown by doubling allocate twice what they
   * end up holding, and V8 answers a growth of memory outside its heap with garbage collections.
   */
  constructor(fileBytes: number) {
    // Capped: a big file of few, long steps must not reserve room for millions.
    const steps = Math.min(PRESIZE_MAX_STEPS, Math.ceil(fileBytes / BYTES_PER_STEP));
    this.q = new Float64Array(Math.max(1024, steps) * M).fill(Number.NaN);
    this.scannedSteps = new ScannedSteps(steps, Math.min(PRESIZE_MAX_STEPS * 128, Math.ceil(fileBytes / 6)));
  }

  readonly onRaw = (raw: string, line: number, terminated: boolean): void => {
    if (raw.startsWith(STATUS_PREFIX)) {
      this.lastStatus = raw;
      this.lastStatusBuf = null;
      return;
    }
    this.parsed(parseLine(raw, line, terminated, "last line is incomplete"), line);
  };

  readonly onBytes = (buf: Buffer, start: number, end: number, line: number, terminated: boolean): void => {
    // Which matcher to try, by the type's first letters in {"type":"…; each matcher checks the whole line.
    const c = buf[start + 9];
    const step = c === 0x73 && buf[start + 11] === 0x65;
    if (c === 0x73 && !step && isStatusLine(buf, start)) {
      this.lastStatusBuf = buf;
      this.lastStatusStart = start;
      this.lastStatusEnd = end;
      this.lastStatus = null;
      return;
    }
    if (terminated && c === 0x71 && matchQ(buf, start, end)) {
      const node = this.v.pushQValues(Q_VALUES[0] as number, line);
      if (node) this.keepQ(node);
      return;
    }
    if (terminated && step && scanStep(buf, start, end)) {
      this.scanned(buf, start, end, line);
      return;
    }
    this.parsed(parseLine(buf.toString("utf8", start, end), line, terminated, "last line is incomplete"), line);
  };

  /**
   * The step line scanStep matched last, replayed without decoding its action and observation: the replay reads
   * no step text (it tracks no metrics), so the event gets empty ones and the bytes are kept for packSide.
   */
  private scanned(buf: Buffer, start: number, end: number, line: number): void {
    const f = STEP_FIELDS;
    const st = this.v.state;
    const ord = st?.nodes.length ?? 0;
    if (!this.scannedSteps.fits(f.actionTo - f.actionFrom + f.observationTo - f.observationFrom)) {
      this.v.push(matchStep(buf, start, end), line, true); // past 2 GiB of step text: decoded after all
      return;
    }
    this.v.push(scannedStep("", ""), line, true);
    if (st && st.nodes.length > ord)
      this.scannedSteps.record(
        ord,
        buf,
        f.actionFrom,
        f.actionTo,
        f.observationFrom,
        f.observationTo,
        f.tool ?? null,
        f.actionAscii && f.observationAscii,
      );
  }

  private parsed(value: unknown, line: number): void {
    if (value instanceof BadLine) {
      this.v.pushIssue(value.issue);
      return;
    }
    if (this.v.push(value, line).length === 0 && (value as { type: string }).type === "rewind") this.rewinds++;
  }

  /** Records the values matchQ left in Q_VALUES as `node`'s latest q. */
  private keepQ(node: StepNode): void {
    if (node.q !== undefined) node.q = undefined;
    const at = node.ord * M;
    if (at + M > this.q.length) {
      const grown = new Float64Array(Math.max(this.q.length * 2, at + M)).fill(Number.NaN);
      grown.set(this.q);
      this.q = grown;
    }
    for (let j = 0; j < M; j++) this.q[at + j] = Q_VALUES[j + 1] as number;
  }

  /** The lineage's q values: a parsed q event where the step kept one, else the values read without one. */
  private lineageQ(lineage: StepNode[]): Float64Array {
    const out = new Float64Array(lineage.length * M).fill(Number.NaN);
    for (let i = 0; i < lineage.length; i++) {
      const node = lineage[i] as StepNode;
      const nq: QEvent | undefined = node.q as QEvent | undefined;
      if (nq) {
        for (let j = 0; j < M; j++) out[i * M + j] = nq[Q_METRICS[j] as (typeof Q_METRICS)[number]];
      } else if (node.ord * M < this.q.length) {
        for (let j = 0; j < M; j++) out[i * M + j] = this.q[node.ord * M + j] as number;
      }
    }
    return out;
  }

  finish(): DiffSide;
  finish(pack: true): PackedSide;
  finish(pack = false): PackedSide | DiffSide {
    const v = this.v;
    const issues: CTFIssue[] = v.finish();
    const st = v.state;
    const lineage = st?.lineage() ?? [];
    let finalStatus: CorridorStatus = v.footer?.final_status ?? "stable";
    if (!v.footer) {
      const b = this.lastStatusBuf;
      const raw = b ? b.toString("utf8", this.lastStatusStart, this.lastStatusEnd) : this.lastStatus;
      if (raw) finalStatus = (JSON.parse(raw) as StatusEvent).corridor_status;
    }
    const facts: TraceFacts = {
      task_id: v.header?.task_id ?? null,
      steps: st?.nodes.length ?? 0,
      lineage_length: lineage.length,
      rewinds: this.rewinds,
      final_status: finalStatus,
    };
    const packed = packSide(facts, lineage, issues, this.lineageQ(lineage), this.scannedSteps);
    return pack ? packed : unpackSide(packed);
  }
}

/**
 * Loads the two sides of a diff. Large files are read in parallel worker threads (only from the
 * compiled package: a worker cannot run the TypeScript sources), small ones in this thread.
 */
export async function loadDiffSides(pathA: string, pathB: string): Promise<[DiffSide, DiffSide]> {
  const compiled = import.meta.url.endsWith(".js");
  const [sa, sb] = await Promise.all([stat(pathA), stat(pathB)]);
  const big = Math.max(sa.size, sb.size) >= WORKER_MIN_BYTES;
  if (!compiled || !big) return Promise.all([loadDiffSide(pathA), loadDiffSide(pathB)]);
  // One side in a worker, the other in this thread meanwhile: a second worker would cost its start-up (loading
  // the package, ~0.15 s) and a hop back, while this thread would only wait.
  return sa.size >= sb.size
    ? Promise.all([inWorker(pathA), loadDiffSide(pathB)])
    : Promise.all([loadDiffSide(pathA), inWorker(pathB)]);
}

function inWorker(path: string): Promise<DiffSide> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL("./diff-worker.js", import.meta.url), { workerData: { path } });
    w.once("message", (m: { packed?: PackedSide; error?: string }) => {
      if (m.packed) resolve(unpackSide(m.packed));
      else reject(new Error(m.error));
      void w.terminate();
    });
    w.once("error", reject);
  });
}
