import { api, type Sample, type SegmentInfo } from "../api.js";
import { useQuery } from "../query.js";
import type { LiveEvents } from "./usePlayback.js";
import type { SampleHit } from "./useSegmentSamples.js";

/** Wait this long on a paused sample before fetching its full payload (stepping through fetches once). */
const PAYLOAD_DEBOUNCE_MS = 120;

export type CoreSample = Pick<Sample, "t" | "C" | "D" | "Q" | "R">;

/**
 * The sample shown in the inspector: C, D, Q, R from complete columns, else the one just streamed; and its full
 * payload (every recorded field), which columns do not carry: fetched as an event when paused, streamed when playing.
 */
export function useInspectedSample(opts: {
  id: string;
  seg: SegmentInfo;
  t: number;
  hit: SampleHit | null;
  live: LiveEvents | null;
  playing: boolean;
}) {
  const { id, seg, t, hit, live, playing } = opts;
  // hit.i is an index of hit.cols (useSegmentSamples' locate), so each column holds it.
  const cur: CoreSample | null = hit
    ? {
        t: hit.cols.t[hit.i]!,
        C: hit.cols.C[hit.i]!,
        D: hit.cols.D[hit.i]!,
        Q: hit.cols.Q[hit.i]!,
        R: hit.cols.R[hit.i]!,
      }
    : live?.sample && live.sample.t === t
      ? live.sample
      : null;
  const sampleT = cur?.t;
  // A stored sample never changes (staleMs: Infinity); a load error keeps what is shown.
  const q = useQuery(
    ["sample", id, seg.segment_id, sampleT],
    async (signal) => {
      const r = await api.events(id, seg.segment_id, { from_t: sampleT, to_t: sampleT, limit: 8 }, signal);
      const s = r.events.find((e) => e.kind === "sample");
      return s ? (s.payload as Sample) : null;
    },
    {
      enabled: !playing && sampleT !== undefined,
      debounceMs: PAYLOAD_DEBOUNCE_MS,
      staleMs: Infinity,
      keepPrevious: true,
    },
  );
  const payload = q.data;
  const fullSample: Sample | null =
    (playing ? live?.sample : undefined) ?? (payload && payload.t === sampleT ? payload : null);
  return { cur, sampleT, fullSample };
}
