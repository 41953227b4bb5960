import type { Anomaly, Sample, Segment } from "../types.js";
import { type SampleColumns, type SetColumns, samplesOf } from "./columns.js";

/** A segment's recorded samples as columns, and the shape their v2 sample objects take (see `samplesOf`). */
export interface SampleRows {
  cols: SampleColumns;
  /** Samples after the first carry the operator's effort `u`. */
  withU: boolean;
  /** Per-sample S-E-T (`triadic.set`), when the SET extension is on. */
  set: SetColumns | undefined;
}

/** Segments whose `samples` have not been read yet, with the columns they will be built from. */
const unread = new WeakMap<Segment, SampleRows>();

/**
 * A v2 segment whose samples stay in their columns until somebody reads `samples`: a simulated session stores every
 * sample (the columns are the log), but building millions of sample objects — three objects and nine boxed doubles
 * each with S-E-T — cost more than the whole simulation; most callers only count, score or serialise them. On first
 * read `samples` becomes an ordinary data property holding exactly the objects `samplesOf` builds, in the same key
 * position, so JSON.stringify, deep equality, spreading and assignment see a plain segment.
 */
export function columnSegment(
  head: { segment_id: string; label: string; meta: Record<string, unknown> },
  rows: SampleRows,
  anomalies: Anomaly[],
): Segment {
  // The literal fixes the key order (segment_id, label, meta, samples, anomalies); redefining `samples` keeps its place.
  const seg: Segment = { segment_id: head.segment_id, label: head.label, meta: head.meta, samples: [], anomalies };
  const settle = (self: Segment, samples: Sample[]) => {
    unread.delete(self);
    Object.defineProperty(self, "samples", { value: samples, writable: true, enumerable: true, configurable: true });
  };
  Object.defineProperty(seg, "samples", {
    enumerable: true,
    configurable: true,
    get(this: Segment): Sample[] {
      const samples = samplesOf(rows.cols, rows.withU, rows.set);
      settle(this, samples);
      return samples;
    },
    set(this: Segment, samples: Sample[]) {
      settle(this, samples);
    },
  });
  unread.set(seg, rows);
  return seg;
}

/** The columns of a segment whose samples were never read (so nobody can have changed them), else undefined. */
export function unreadRowsOf(seg: Segment): SampleRows | undefined {
  return unread.get(seg);
}

/** How many samples a segment holds, without building them when they are still columns. */
export function sampleCountOf(seg: Segment): number {
  return unread.get(seg)?.cols.length ?? seg.samples?.length ?? 0;
}
