import { useMemo, useState } from "react";
import { type Anomaly, type SegmentInfo, segmentAnomalies } from "../api.js";
import { useQuery } from "../query.js";

interface SegmentAnomalies {
  bySeg: Record<string, Anomaly[]>;
  complete: boolean;
}
/** What a failed load shows: no markers, and a note that some could not be loaded. */
const FAILED: SegmentAnomalies = { bySeg: {}, complete: false };

/** One anomaly of the session, with its segment; `key` is unique across segments. */
export interface SessionAnomaly {
  seg: SegmentInfo;
  a: Anomaly;
  key: string;
}

/**
 * Every segment's anomaly markers, and the same as one list in session order for "jump to anomaly".
 * Loading waits for `plotsSettled` (the first plot data arrived or failed), so a big session's samples come first.
 */
export function useSessionAnomalies(id: string, segments: SegmentInfo[], plotsSettled: boolean) {
  // Latched: switching segments reloads the plot data, but the markers (of every segment) need loading only once.
  const [settled, setSettled] = useState(false);
  if (!settled && plotsSettled) setSettled(true);
  // The segments are the session's: its id is the key.
  const q = useQuery(
    ["anomalies", id],
    async (signal): Promise<SegmentAnomalies> => {
      const res = await Promise.all(
        segments.map(async (s) => ({ segment_id: s.segment_id, ...(await segmentAnomalies(id, s, signal)) })),
      );
      const bySeg: Record<string, Anomaly[]> = {};
      for (const r of res) bySeg[r.segment_id] = r.anomalies;
      return { bySeg, complete: res.every((r) => r.complete) };
    },
    { enabled: settled },
  );
  const anoms = q.state === "ok" ? q.data : q.state === "error" ? FAILED : null;

  const allAnoms = useMemo(() => {
    const out: SessionAnomaly[] = [];
    if (!anoms) return out;
    for (const s of segments)
      (anoms.bySeg[s.segment_id] ?? []).forEach((a, i) => {
        out.push({ seg: s, a, key: `${s.segment_id}|${i}` });
      });
    return out;
  }, [anoms, segments]);

  return { anoms, allAnoms };
}

/** The next (dir 1) or previous (dir -1) anomaly from t in segment `segIndex`, wrapping around the session. */
export function adjacentAnomaly(
  allAnoms: SessionAnomaly[],
  segments: SegmentInfo[],
  segIndex: number,
  t: number,
  dir: 1 | -1,
): SessionAnomaly | undefined {
  if (!allAnoms.length) return undefined;
  const pos = (x: SessionAnomaly) => segments.indexOf(x.seg) * 1e9 + x.a.t;
  const now = segIndex * 1e9 + t;
  const cand =
    dir > 0 ? allAnoms.find((x) => pos(x) > now + 1e-9) : [...allAnoms].reverse().find((x) => pos(x) < now - 1e-9);
  return cand ?? (dir > 0 ? allAnoms[0] : allAnoms[allAnoms.length - 1]);
}
