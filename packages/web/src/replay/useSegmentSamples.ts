import { type RefObject, useCallback, useEffect, useRef, useState } from "react";
import { api, type Columns, columnsQuery, plotPointBudget, type SegmentInfo } from "../api.js";
import { fetchQuery, useQuery } from "../query.js";
import { update } from "../route.js";
import { nearestIndex } from "../util.js";
import type { PlotDetail, XRange } from "./Plots.js";
import { formatZoom, parseZoom } from "./zoomParam.js";

/** Wait this long after a zoom before fetching its range (a burst of zooms fetches once). */
const ZOOM_DEBOUNCE_MS = 150;
/** Samples around the current t fetched at full resolution for the inspector when the plot data is decimated. */
const WINDOW_SAMPLES = 512;
const WINDOW_MAX_POINTS = 2048;
/** Wait this long on a paused t before fetching the samples around it (scrubbing fetches once). */
const WINDOW_DEBOUNCE_MS = 80;

/** A sample in loaded columns: `cols.t[i]` and its C, D, Q, R. */
export interface SampleHit {
  cols: Columns;
  i: number;
}

/**
 * A segment's samples for the plots and the inspector, loaded no more finely than needed.
 *
 * The plots get an overview sized to their width: every sample of a small segment, a min/max decimation of a
 * big one (GET …/columns?max_points). A zoom fetches its range again at the same budget (`zoomDetail`).
 * The inspector and stepping need exact samples: the overview when it is complete; otherwise a complete
 * zoomed range, or a window of samples around t fetched at full resolution.
 */
export function useSegmentSamples(opts: {
  id: string;
  seg: SegmentInfo;
  t: number;
  tRef: RefObject<number>;
  setT: (t: number) => void;
  playing: boolean;
  /** The `zoom` URL parameter ("min,max"), so a shared link opens zoomed in. */
  urlZoom?: string;
}) {
  const { id, seg, t, tRef, setT, playing, urlZoom } = opts;
  const [budget] = useState(plotPointBudget);
  // The same key as the prefetch of a deep-linked segment (Replay), which this takes over.
  const overviewQuery = columnsQuery(id, seg.segment_id, { max_points: budget });
  const cols = useQuery(overviewQuery.key, overviewQuery.fetcher, { staleMs: overviewQuery.staleMs });

  const overview = cols.data;
  const nTotal = overview ? (overview.n_total ?? overview.n) : 0;
  // The overview always holds the segment's first and last sample, decimated or not.
  const segT0 = overview?.t[0] ?? 0;
  const segT1 = overview?.t[overview.t.length - 1] ?? 0;
  const dtEst = nTotal > 1 ? (segT1 - segT0) / (nTotal - 1) : 0;
  const clampT = (x: number) => Math.min(segT1, Math.max(segT0, x));

  // Zoom (reported by the plots) and the zoomed range's columns, both tied to the overview they belong to.
  const [zoomState, setZoomState] = useState<{ of: Columns; range: XRange } | null>(null);
  const zoom = overview && zoomState?.of === overview ? zoomState.range : null;
  const onZoom = useCallback(
    (range: XRange | null) => {
      setZoomState(range && overview ? { of: overview, range } : null);
      update({ zoom: range ? formatZoom(range) : undefined }, { replace: true });
    },
    [overview],
  );
  const initialZoom = parseZoom(urlZoom);
  // A decimated overview is refined on zoom; a complete one already holds every sample. While a new range loads
  // (or if it fails) the last one loaded stays on the plots.
  const detail = useQuery(
    ["zoom", id, seg.segment_id, budget, zoom?.min, zoom?.max],
    async (signal): Promise<PlotDetail> => {
      const range = zoom!;
      // A little beyond the view so the lines run to the plot's edges.
      const pad = (range.max - range.min) * 0.02 + 2 * dtEst;
      const q = { from_t: range.min - pad, to_t: range.max + pad, max_points: budget };
      return { range, columns: await api.columns(id, seg.segment_id, q, signal) };
    },
    { enabled: !!zoom && !!overview?.decimated, debounceMs: ZOOM_DEBOUNCE_MS, staleMs: Infinity, keepPrevious: true },
  );
  const zoomDetail = zoom ? (detail.data ?? null) : null;

  const [win, setWin] = useState<{ of: Columns; columns: Columns } | null>(null);
  const exactSources: Columns[] = [];
  if (overview && !overview.decimated) exactSources.push(overview);
  else if (overview) {
    if (zoomDetail && !zoomDetail.columns.decimated) exactSources.push(zoomDetail.columns);
    if (win?.of === overview) exactSources.push(win.columns);
  }
  /** The sample nearest to x in complete data, or null when the loaded data cannot tell. */
  const locate = (x: number): SampleHit | null => {
    for (const c of exactSources) {
      const ts = c.t;
      if (c === overview) {
        const i = ts.length ? nearestIndex(ts, x) : -1;
        return i >= 0 ? { cols: c, i } : null;
      }
      // A range body holds every sample in its range: it knows x's neighbours when x lies between its ends.
      const xc = clampT(x);
      const first = ts[0];
      const last = ts[ts.length - 1];
      if (first !== undefined && last !== undefined && xc >= first && xc <= last)
        return { cols: c, i: nearestIndex(ts, xc) };
    }
    return null;
  };
  /** Every sample within about WINDOW_SAMPLES / 2 of x (narrowed when the spacing is uneven). */
  const fetchWindow = async (x: number, signal?: AbortSignal): Promise<Columns> => {
    const xc = clampT(x);
    let half = Math.max(dtEst, 1e-9) * (WINDOW_SAMPLES / 2);
    for (let k = 0; k < 12; k++) {
      const c = await api.columns(
        id,
        seg.segment_id,
        { from_t: xc - half, to_t: xc + half, max_points: WINDOW_MAX_POINTS },
        signal,
      );
      if (c.decimated) half /= 8;
      else if (c.t.length && c.t[0]! <= xc && c.t[c.t.length - 1]! >= xc) return c;
      else half *= 4;
    }
    throw new Error("no samples found around this t");
  };

  /** The window around x as a query: stepping and the paused inspector share (and reuse) its load. */
  const windowQuery = (x: number) => ({
    key: ["window", id, seg.segment_id, x] as const,
    fetcher: (signal: AbortSignal) => fetchWindow(x, signal),
  });

  // Steps pressed while a window is loading add up, and are taken from where the first one started.
  const stepPending = useRef<{ dir: number } | null>(null);
  /** Move t by `dir` samples (negative: back). */
  const step = (dir: number) => {
    if (!overview?.t.length) return;
    const from = tRef.current;
    const hit = locate(from);
    if (hit) {
      // hit.i indexes hit.cols: ts is not empty.
      const ts = hit.cols.t;
      const j = hit.i + dir;
      if (j >= 0 && j < ts.length) return setT(ts[j]!);
      // Past the loaded samples: fine at the segment's ends, otherwise the next window is needed.
      if (hit.cols === overview || (j < 0 && ts[0]! <= segT0) || (j >= ts.length && ts[ts.length - 1]! >= segT1))
        return setT(ts[Math.min(ts.length - 1, Math.max(0, j))]!);
    }
    if (stepPending.current) {
      stepPending.current.dir += dir;
      return;
    }
    const job = { dir };
    stepPending.current = job;
    const of = overview;
    const wq = windowQuery(from);
    fetchQuery(wq.key, wq.fetcher, { staleMs: Infinity }).then(
      (w) => {
        stepPending.current = null;
        if (tRef.current !== from) return; // moved meanwhile
        setWin({ of, columns: w });
        const i = nearestIndex(w.t, clampT(from));
        setT(w.t[Math.min(w.t.length - 1, Math.max(0, i + job.dir))]!); // fetchWindow's windows hold samples
      },
      () => {
        stepPending.current = null;
      },
    );
  };

  const hit = locate(t);
  // With a decimated overview, paused at a t no complete data covers: load the samples around it.
  const needWindow = !!overview?.decimated && !playing && !hit;
  const wq = windowQuery(t);
  const around = useQuery(wq.key, wq.fetcher, {
    enabled: needWindow,
    debounceMs: WINDOW_DEBOUNCE_MS,
    staleMs: Infinity,
  });
  // Kept once loaded: it stays an exact source while t moves within it (when the query is idle again).
  useEffect(() => {
    if (around.data && overview) setWin({ of: overview, columns: around.data });
  }, [around.data, overview]);

  return { cols, nTotal, dtEst, zoomDetail, onZoom, initialZoom, hit, step };
}
