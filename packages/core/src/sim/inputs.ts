import { segmentsOf } from "../session.js";
import type { SessionLog } from "../types.js";

/**
 * A recorded operator input: effort `u` applied over the step that ends at sample time `t` (held until the next
 * event), optionally scoped to one segment. TRAINING/LIVE logs carry it as the `u` field of each sample, so any such
 * log is also a replay script (see `extractInputs`).
 */
export interface RecordedInput {
  t: number;
  u: number;
  segment_id?: string;
}

/** The operator inputs recorded in a log's samples, in order. */
export function extractInputs(log: SessionLog): RecordedInput[] {
  const out: RecordedInput[] = [];
  for (const seg of segmentsOf(log))
    for (const s of seg.samples) if (typeof s.u === "number") out.push({ segment_id: seg.segment_id, t: s.t, u: s.u });
  return out;
}

/**
 * Reads a REPLAY input file's parsed JSON: an array of {t, u, segment_id?}, an object {inputs: [...]}, or a session
 * log (its samples' `u`). Throws with a JSON-pointer-style location on a malformed entry.
 */
export function parseRecordedInputs(value: unknown): RecordedInput[] {
  if (value && typeof value === "object" && !Array.isArray(value)) {
    const v = value as { inputs?: unknown; segments?: unknown; samples?: unknown };
    if (Array.isArray(v.inputs)) return parseRecordedInputs(v.inputs);
    if (Array.isArray(v.segments) || Array.isArray(v.samples)) return extractInputs(value as SessionLog);
  }
  if (!Array.isArray(value))
    throw new Error("inputs: expected an array of {t, u, segment_id?}, {inputs: [...]}, or a session log");
  return value.map((e, i) => {
    const ok =
      e &&
      typeof e === "object" &&
      Number.isFinite(e.t) &&
      Number.isFinite(e.u) &&
      (e.segment_id === undefined || typeof e.segment_id === "string");
    if (!ok)
      throw new Error(`inputs/${i}: expected {t: number, u: number, segment_id?: string}, found ${JSON.stringify(e)}`);
    return e.segment_id === undefined ? { t: e.t, u: e.u } : { t: e.t, u: e.u, segment_id: e.segment_id };
  });
}

/** Replays recorded inputs for one segment: the last event with t <= the step's end time (events kept sorted). */
export class InputReplayer {
  private events: RecordedInput[] = [];
  private i = 0;
  private u = 0;

  constructor(private readonly all: RecordedInput[]) {}

  startSegment(segment_id: string): void {
    this.events = this.all
      .filter((e) => e.segment_id === undefined || e.segment_id === segment_id)
      .sort((a, b) => a.t - b.t);
    this.i = 0;
    this.u = 0;
  }

  at(t: number): number {
    const events = this.events;
    for (; this.i < events.length; this.i++) {
      const e = events[this.i]!; // i < length
      if (e.t > t + 1e-9) break;
      this.u = e.u;
    }
    return this.u;
  }
}
