import { stat } from "node:fs/promises";
import { Worker } from "node:worker_threads";
import { type DiffSide, sideFromLineage } from "./diff.js";
import { BadLine, parseCTFRawLines, parseLine, readCTFRawLines } from "./reader.js";
import type { CorridorStatus, StatusEvent } from "./types.js";
import { CTFValidator } from "./validator.js";

/** Diff input is loaded without the schema check: diff compares, `validate` judges; the replay still enforces the rules. */
export const DIFF_LOAD_OPTIONS = { recompute: false, skipSchema: true, requireFooter: false } as const;

/** Above this size a file is loaded in a worker thread, so two big traces are read on two cores. */
const WORKER_MIN_BYTES = 16 * 1024 * 1024;

const STATUS_PREFIX = '{"type":"status"';

/**
 * Loads one side of a diff. Status lines are not needed (the footer carries the final status) and
 * are a third of a trace, so lines that start exactly like RTT's status events are not parsed; the
 * last one is kept raw for traces without a footer. Everything else is replayed as usual.
 */
export async function loadDiffSide(path: string): Promise<DiffSide> {
  const side = new SideLoader();
  await readCTFRawLines(path, side.onRaw);
  return side.finish();
}

/** loadDiffSide over text in memory (a trace stored in a database rather than a file). */
export function loadDiffSideText(text: string): DiffSide {
  const side = new SideLoader();
  parseCTFRawLines(text, side.onRaw);
  return side.finish();
}

class SideLoader {
  private readonly v = new CTFValidator({ ...DIFF_LOAD_OPTIONS, checkFinalStatus: false });
  private lastStatus: string | null = null;
  private rewinds = 0;

  readonly onRaw = (raw: string, line: number, terminated: boolean): void => {
    if (raw.startsWith(STATUS_PREFIX)) {
      this.lastStatus = raw;
      return;
    }
    const value = parseLine(raw, line, terminated, "last line is incomplete");
    if (value instanceof BadLine) {
      this.v.pushIssue(value.issue);
      return;
    }
    if (this.v.push(value, line).length === 0 && (value as { type: string }).type === "rewind") this.rewinds++;
  };

  finish(): DiffSide {
    const v = this.v;
    const issues = v.finish();
    const st = v.state;
    const lineage = st?.lineage() ?? [];
    let finalStatus: CorridorStatus = v.footer?.final_status ?? "stable";
    if (!v.footer && this.lastStatus) finalStatus = (JSON.parse(this.lastStatus) as StatusEvent).corridor_status;
    return sideFromLineage(
      {
        task_id: v.header?.task_id ?? null,
        steps: st?.nodes.length ?? 0,
        lineage_length: lineage.length,
        rewinds: this.rewinds,
        final_status: finalStatus,
      },
      lineage,
      issues,
    );
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
  return Promise.all([inWorker(pathA), inWorker(pathB)]);
}

function inWorker(path: string): Promise<DiffSide> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL("./diff-worker.js", import.meta.url), { workerData: { path } });
    w.once("message", (m: { side?: DiffSide; error?: string }) => {
      if (m.side) resolve(m.side);
      else reject(new Error(m.error));
      void w.terminate();
    });
    w.once("error", reject);
  });
}
