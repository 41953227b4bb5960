import { useCallback, useEffect, useRef, useState } from "react";
import type { SegmentInfo } from "../api.js";
import { type Params, update } from "../route.js";

/** How often, at most, the current t is written into the URL while it moves (playback, stepping). */
const URL_WRITE_MS = 400;

/**
 * The current time (segment-local) of the replay, mirrored into the URL so a shared or reloaded link opens at
 * the same moment. `tRef` holds the latest t for callbacks that must not be rebuilt on every tick.
 */
export function useReplayTime(params: Params, seg: SegmentInfo) {
  const urlT = params.t !== undefined && Number.isFinite(Number(params.t)) ? Number(params.t) : seg.t_min;
  const [t, setT] = useState(urlT);
  const tRef = useRef(t);
  tRef.current = t;
  // The last t this hook wrote, to tell its own URL writes from back/forward or an edited address.
  const lastWritten = useRef<string | undefined>(params.t);
  useEffect(() => {
    // Back/forward or an edited address changes t from outside.
    if (params.t !== lastWritten.current) {
      lastWritten.current = params.t;
      setT(urlT);
    }
  }, [params.t, urlT]);
  const urlTimer = useRef<number | undefined>(undefined);
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs on every t change, reads the latest t from a ref
  useEffect(() => {
    if (urlTimer.current !== undefined) return;
    urlTimer.current = window.setTimeout(() => {
      urlTimer.current = undefined;
      const v = String(Number(tRef.current.toFixed(6)));
      lastWritten.current = v;
      update({ t: v }, { replace: true });
    }, URL_WRITE_MS);
  }, [t]);
  useEffect(() => () => clearTimeout(urlTimer.current), []);

  /** Move to t in a segment; another segment is a new history entry, written at once, shown unzoomed. */
  const goTo = useCallback(
    (segmentId: string, tt: number) => {
      if (segmentId !== seg.segment_id) {
        const v = String(Number(tt.toFixed(6)));
        lastWritten.current = v;
        update({ segment: segmentId, t: v, zoom: undefined });
      }
      setT(tt);
    },
    [seg.segment_id],
  );

  return { t, setT, tRef, goTo };
}
