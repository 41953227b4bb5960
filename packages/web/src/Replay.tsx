import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import {
  type Anomaly,
  api,
  type Columns,
  type CurriculumReport,
  type Note,
  plotPointBudget,
  type Sample,
  type SegmentInfo,
  type SessionDetail,
  segmentAnomalies,
  shortOperator,
} from "./api.js";
import { type Band, type PlotDetail, Plots, type XRange } from "./Plots.js";
import { href, onLinkClick, type Params, update, useTitle } from "./route.js";
import { Timeline, type TimelineBand } from "./Timeline.js";
import { DimCoreView, SetView, SnrGraph } from "./Triadic.js";
import {
  Empty,
  ErrorBox,
  fmtNum,
  fmtT,
  fmtTime,
  Loading,
  nearestIndex,
  SEVERITY_NAMES,
  SeverityBadge,
  sevColor,
  useAsync,
} from "./util.js";

const NO_ANOMALIES: Anomaly[] = [];
/** Wait this long after a zoom before fetching its range (a burst of zooms fetches once). */
const ZOOM_DEBOUNCE_MS = 150;
/** Samples around the current t fetched at full resolution for the inspector when the plot data is decimated. */
const WINDOW_SAMPLES = 512;
const WINDOW_MAX_POINTS = 2048;
const SPEEDS = [0.25, 0.5, 1, 2, 4, 8, 16];
const OVERLAYS = [
  ["anomalies", "Anomalies"],
  ["boundaries", "Segment boundaries"],
  ["set", "SET"],
  ["dimcore", "DimCore"],
  ["snr", "SNR nodes"],
] as const;
type OverlayKey = (typeof OVERLAYS)[number][0];

export function Replay({ params, curriculum }: { params: Params; curriculum: boolean }) {
  const id = params.session;
  const [detail, reload] = useAsync(
    (s) => {
      if (params.segment) api.prefetchColumns(id, params.segment, { max_points: plotPointBudget() });
      return api.session(id, s);
    },
    [id],
  );
  useTitle(curriculum ? `Curriculum ${id}` : `Replay ${id}`);
  if (detail.state === "loading") return <Loading what="the session" testid="replay-loading" />;
  if (detail.state === "error")
    return (
      <div className="page-msg">
        <ErrorBox error={detail.error} what={`session ${id}`} retry={reload} />
        <a href={href({})} onClick={(e) => onLinkClick(e, {})}>
          ← Back to sessions
        </a>
      </div>
    );
  if (!detail.data.segments?.length)
    return (
      <Empty testid="replay-empty">
        <strong>This session has no segments or samples to replay.</strong>
        <p>
          It was stored without samples. <a href={api.exportUrl(id)}>Export the JSON</a> to inspect it, or pick another
          session.
        </p>
      </Empty>
    );
  return <ReplayLoaded detail={detail.data} params={params} curriculum={curriculum} />;
}

function ReplayLoaded({ detail, params, curriculum }: { detail: SessionDetail; params: Params; curriculum: boolean }) {
  const id = detail.session_id;
  const segments = detail.segments;
  const seg: SegmentInfo = segments.find((s) => s.segment_id === params.segment) ?? segments[0];
  const segIndex = segments.indexOf(seg);

  // ---- current time (segment-local), mirrored into the URL (throttled) ----
  const urlT = params.t !== undefined && Number.isFinite(Number(params.t)) ? Number(params.t) : seg.t_min;
  const [t, setT] = useState(urlT);
  const tRef = useRef(t);
  tRef.current = t;
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
    }, 400);
  }, [t]);
  useEffect(() => () => clearTimeout(urlTimer.current), []);

  // ---- data ----
  // The plots get an overview sized to their width: every sample of a small segment, a min/max decimation of a
  // big one (GET …/columns?max_points). A zoom fetches its range again at the same budget (`zoomDetail` below).
  const [budget] = useState(plotPointBudget);
  const [cols, reloadCols] = useAsync(
    (s) => api.columns(id, seg.segment_id, { max_points: budget }, s),
    [id, seg.segment_id],
  );
  const [anoms, setAnoms] = useState<{ bySeg: Record<string, Anomaly[]>; complete: boolean } | null>(null);
  // Anomaly markers load after the first plot data has arrived, so a big session's samples come first.
  const [colsSettled, setColsSettled] = useState(false);
  if (!colsSettled && cols.state !== "loading") setColsSettled(true);
  useEffect(() => {
    if (!colsSettled) return;
    const ctl = new AbortController();
    Promise.all(segments.map((s) => segmentAnomalies(id, s, ctl.signal))).then(
      (res) => {
        const bySeg: Record<string, Anomaly[]> = {};
        res.forEach((r, i) => {
          bySeg[segments[i].segment_id] = r.anomalies;
        });
        setAnoms({ bySeg, complete: res.every((r) => r.complete) });
      },
      () => {
        if (!ctl.signal.aborted) setAnoms({ bySeg: {}, complete: false });
      },
    );
    return () => ctl.abort();
  }, [id, segments, colsSettled]);
  const [notes, setNotes] = useState<Note[]>([]);
  const [notesErr, setNotesErr] = useState<Error | null>(null);
  useEffect(() => {
    const ctl = new AbortController();
    api.notes(id, ctl.signal).then(setNotes, (e: Error) => !ctl.signal.aborted && setNotesErr(e));
    return () => ctl.abort();
  }, [id]);
  const [report, reloadReport] = useAsync<CurriculumReport | null>(
    (s) => (curriculum ? api.curriculum(id, s) : Promise.resolve(null)),
    [id, curriculum],
  );

  // ---- overlays (in the URL so a shared link shows the same picture) ----
  const ov = new Set<OverlayKey>(
    (params.ov ?? "anomalies,boundaries").split(",").filter((x): x is OverlayKey => OVERLAYS.some(([k]) => k === x)),
  );
  const toggleOverlay = (k: OverlayKey) => {
    const next = new Set(ov);
    if (next.has(k)) next.delete(k);
    else next.add(k);
    const v = [...next].join(",");
    update({ ov: v === "anomalies,boundaries" ? undefined : v || "none" }, { replace: true });
  };

  // ---- playback controls ----
  const [playing, setPlaying] = useState(false);
  const [speed, setSpeed] = useState(() => (SPEEDS.includes(Number(params.speed)) ? Number(params.speed) : 1));
  const [loop, setLoop] = useState(params.loop === "1");
  const fromT = params.from_t !== undefined && params.from_t !== "" ? Number(params.from_t) : undefined;
  const toT = params.to_t !== undefined && params.to_t !== "" ? Number(params.to_t) : undefined;
  const [streamErr, setStreamErr] = useState<string | null>(null);
  const [live, setLive] = useState<{ sample?: Sample; anomaly?: Anomaly } | null>(null);

  const seek = useCallback(
    (segmentId: string, tt: number, opts: { keepPlaying?: boolean } = {}) => {
      if (!opts.keepPlaying) setPlaying(false);
      setLive(null);
      if (segmentId !== seg.segment_id) {
        const v = String(Number(tt.toFixed(6)));
        lastWritten.current = v;
        update({ segment: segmentId, t: v });
        setT(tt);
      } else {
        setT(tt);
      }
    },
    [seg.segment_id],
  );

  // ---- plot data beyond the overview: the zoomed range, and exact samples around t ----
  const overview = cols.data;
  const nTotal = overview ? (overview.n_total ?? overview.n) : 0;
  // The overview always holds the segment's first and last sample, decimated or not.
  const segT0 = overview?.t.length ? overview.t[0] : 0;
  const segT1 = overview?.t.length ? overview.t[overview.t.length - 1] : 0;
  const dtEst = nTotal > 1 ? (segT1 - segT0) / (nTotal - 1) : 0;
  const clampT = (x: number) => Math.min(segT1, Math.max(segT0, x));

  // Zoom (reported by the plots) and the zoomed range's columns, both tied to the overview they belong to.
  const [zoomState, setZoomState] = useState<{ of: Columns; range: XRange } | null>(null);
  const zoom = overview && zoomState?.of === overview ? zoomState.range : null;
  const onZoom = useCallback(
    (range: XRange | null) => setZoomState(range && overview ? { of: overview, range } : null),
    [overview],
  );
  const [detailState, setDetailState] = useState<(PlotDetail & { of: Columns }) | null>(null);
  const zoomDetail = zoom && detailState?.of === overview ? detailState : null;
  // biome-ignore lint/correctness/useExhaustiveDependencies: dtEst follows overview
  useEffect(() => {
    // A decimated overview is refined on zoom; a complete one already holds every sample.
    if (!zoom || !overview?.decimated) return;
    const ctl = new AbortController();
    // A little beyond the view so the lines run to the plot's edges.
    const pad = (zoom.max - zoom.min) * 0.02 + 2 * dtEst;
    const timer = window.setTimeout(() => {
      api
        .columns(id, seg.segment_id, { from_t: zoom.min - pad, to_t: zoom.max + pad, max_points: budget }, ctl.signal)
        .then(
          (columns) => {
            if (!ctl.signal.aborted) setDetailState({ of: overview, range: zoom, columns });
          },
          () => {},
        );
    }, ZOOM_DEBOUNCE_MS);
    return () => {
      clearTimeout(timer);
      ctl.abort();
    };
  }, [zoom, overview, id, seg.segment_id, budget]);

  // Exact samples for the inspector and for stepping: the overview when it is complete; otherwise a complete
  // zoomed range, or a window of samples around t fetched at full resolution.
  const [win, setWin] = useState<{ of: Columns; columns: Columns } | null>(null);
  const exactSources: Columns[] = [];
  if (overview && !overview.decimated) exactSources.push(overview);
  else if (overview) {
    if (zoomDetail && !zoomDetail.columns.decimated) exactSources.push(zoomDetail.columns);
    if (win?.of === overview) exactSources.push(win.columns);
  }
  /** The sample nearest to x in complete data, or null when the loaded data cannot tell. */
  const locate = (x: number): { cols: Columns; i: number } | null => {
    for (const c of exactSources) {
      const ts = c.t;
      if (c === overview) {
        const i = ts.length ? nearestIndex(ts, x) : -1;
        return i >= 0 ? { cols: c, i } : null;
      }
      // A range body holds every sample in its range: it knows x's neighbours when x lies between its ends.
      const xc = clampT(x);
      if (ts.length && xc >= ts[0] && xc <= ts[ts.length - 1]) return { cols: c, i: nearestIndex(ts, xc) };
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
      else if (c.t.length && c.t[0] <= xc && c.t[c.t.length - 1] >= xc) return c;
      else half *= 4;
    }
    throw new Error("no samples found around this t");
  };

  const stepPending = useRef<{ dir: number } | null>(null);
  const step = (dir: number) => {
    setPlaying(false);
    setLive(null);
    if (!overview?.t.length) return;
    const from = tRef.current;
    const hit = locate(from);
    if (hit) {
      const ts = hit.cols.t;
      const j = hit.i + dir;
      if (j >= 0 && j < ts.length) return setT(ts[j]);
      // Past the loaded samples: fine at the segment's ends, otherwise the next window is needed.
      if (hit.cols === overview || (j < 0 && ts[0] <= segT0) || (j >= ts.length && ts[ts.length - 1] >= segT1))
        return setT(ts[Math.min(ts.length - 1, Math.max(0, j))]);
    }
    if (stepPending.current) {
      stepPending.current.dir += dir;
      return;
    }
    const job = { dir };
    stepPending.current = job;
    const of = overview;
    fetchWindow(from).then(
      (w) => {
        stepPending.current = null;
        if (tRef.current !== from) return; // moved meanwhile
        setWin({ of, columns: w });
        const i = nearestIndex(w.t, clampT(from));
        setT(w.t[Math.min(w.t.length - 1, Math.max(0, i + job.dir))]);
      },
      () => {
        stepPending.current = null;
      },
    );
  };

  // SSE playback: a new EventSource whenever play starts, the speed changes or the segment changes.
  const [playNonce, setPlayNonce] = useState(0);
  const loopRef = useRef(loop);
  loopRef.current = loop;
  // biome-ignore lint/correctness/useExhaustiveDependencies: restarts on play/speed/segment/loop restart only
  useEffect(() => {
    if (!playing) return;
    const end = toT ?? seg.t_max;
    const start = fromT ?? seg.t_min;
    let from = tRef.current;
    if (from >= end - 1e-12 || from < start) from = start;
    setStreamErr(null);
    const es = new EventSource(api.streamUrl(id, seg.segment_id, { speed, from_t: from, to_t: toT }));
    let raf = 0;
    let pending: Sample | undefined;
    const flush = () => {
      raf = 0;
      if (pending) {
        const s = pending;
        pending = undefined;
        setT(s.t);
        setLive((l) => ({ ...l, sample: s }));
      }
    };
    es.addEventListener("sample", (e) => {
      pending = JSON.parse((e as MessageEvent).data) as Sample;
      if (!raf) raf = requestAnimationFrame(flush);
    });
    es.addEventListener("anomaly", (e) => {
      const a = JSON.parse((e as MessageEvent).data) as Anomaly;
      setLive((l) => ({ ...l, anomaly: a }));
    });
    es.addEventListener("end", () => {
      es.close();
      cancelAnimationFrame(raf);
      flush();
      if (loopRef.current) {
        tRef.current = start;
        setT(start);
        setPlayNonce((n) => n + 1);
      } else setPlaying(false);
    });
    es.onerror = () => {
      if (es.readyState === EventSource.CLOSED) {
        setStreamErr("The replay stream closed unexpectedly. Press play to retry.");
        setPlaying(false);
      }
    };
    return () => {
      es.close();
      cancelAnimationFrame(raf);
    };
  }, [playing, speed, seg.segment_id, playNonce]);

  // ---- anomalies: flat list across segments for "jump to anomaly" ----
  const allAnoms = useMemo(() => {
    const out: { seg: SegmentInfo; a: Anomaly; key: string }[] = [];
    if (!anoms) return out;
    for (const s of segments)
      (anoms.bySeg[s.segment_id] ?? []).forEach((a, i) => {
        out.push({ seg: s, a, key: `${s.segment_id}|${i}` });
      });
    return out;
  }, [anoms, segments]);
  const jumpAnomaly = (dir: 1 | -1) => {
    if (!allAnoms.length) return;
    const pos = (x: { seg: SegmentInfo; a: Anomaly }) => segments.indexOf(x.seg) * 1e9 + x.a.t;
    const now = segIndex * 1e9 + tRef.current;
    const cand =
      dir > 0 ? allAnoms.find((x) => pos(x) > now + 1e-9) : [...allAnoms].reverse().find((x) => pos(x) < now - 1e-9);
    const target = cand ?? (dir > 0 ? allAnoms[0] : allAnoms[allAnoms.length - 1]);
    seek(target.seg.segment_id, target.a.t);
  };

  // ---- keyboard: space play/pause, ←/→ step (shift: ×10), [ ] anomalies, Home/End, 1–9 segments ----
  const keyState = useRef({ step, jumpAnomaly, seek, segments, seg });
  keyState.current = { step, jumpAnomaly, seek, segments, seg };
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const el = e.target as HTMLElement;
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      if (el.closest("input, textarea, select, [contenteditable=true]")) return;
      const k = keyState.current;
      if (e.key === " " || e.key === "k") {
        e.preventDefault();
        setPlaying((p) => !p);
      } else if (e.key === "ArrowRight" || e.key === "ArrowLeft") {
        e.preventDefault();
        k.step((e.key === "ArrowRight" ? 1 : -1) * (e.shiftKey ? 10 : 1));
      } else if (e.key === "]" || e.key === "[") {
        e.preventDefault();
        k.jumpAnomaly(e.key === "]" ? 1 : -1);
      } else if (e.key === "Home" || e.key === "End") {
        e.preventDefault();
        k.seek(k.seg.segment_id, e.key === "Home" ? k.seg.t_min : k.seg.t_max);
      } else if (/^[1-9]$/.test(e.key)) {
        const s = k.segments[Number(e.key) - 1];
        if (s) k.seek(s.segment_id, s.t_min);
      }
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, []);

  // ---- current sample (from complete columns, else the live one) and its full payload (events, when paused) ----
  const hit = locate(t);
  const cur: Pick<Sample, "t" | "C" | "D" | "Q" | "R"> | null = hit
    ? {
        t: hit.cols.t[hit.i],
        C: hit.cols.C[hit.i],
        D: hit.cols.D[hit.i],
        Q: hit.cols.Q[hit.i],
        R: hit.cols.R[hit.i],
      }
    : live?.sample && live.sample.t === t
      ? live.sample
      : null;
  const sampleT = cur?.t;
  // With a decimated overview, paused at a t no complete data covers: load the samples around it.
  const needWindow = !!overview?.decimated && !playing && !hit;
  // biome-ignore lint/correctness/useExhaustiveDependencies: fetchWindow is rebuilt each render from these
  useEffect(() => {
    if (!needWindow || !overview) return;
    const ctl = new AbortController();
    const timer = window.setTimeout(() => {
      fetchWindow(t, ctl.signal).then(
        (w) => {
          if (!ctl.signal.aborted) setWin({ of: overview, columns: w });
        },
        () => {},
      );
    }, 80);
    return () => {
      clearTimeout(timer);
      ctl.abort();
    };
  }, [needWindow, t, overview]);
  const [payload, setPayload] = useState<Sample | null>(null);
  useEffect(() => {
    if (playing || sampleT === undefined) return;
    const ctl = new AbortController();
    const timer = setTimeout(() => {
      api.events(id, seg.segment_id, { from_t: sampleT, to_t: sampleT, limit: 8 }, ctl.signal).then(
        (r) => {
          const s = r.events.find((e) => e.kind === "sample");
          setPayload(s ? (s.payload as Sample) : null);
        },
        () => {},
      );
    }, 120);
    return () => {
      clearTimeout(timer);
      ctl.abort();
    };
  }, [id, seg.segment_id, sampleT, playing]);
  const fullSample: Sample | null =
    (playing ? live?.sample : undefined) ?? (payload && payload.t === sampleT ? payload : null);

  const segAnoms = anoms?.bySeg[seg.segment_id] ?? NO_ANOMALIES;
  const near = hit?.cols;
  const spacing = near && near.t.length > 1 ? (near.t[near.t.length - 1] - near.t[0]) / (near.t.length - 1) : dtEst;
  const hereAnoms = segAnoms.filter((a) => Math.abs(a.t - t) <= Math.max(spacing / 2, 1e-9));

  const triadic = detail.triadic ?? null;
  const setVals = fullSample?.triadic?.set ?? fullSample?.SET ?? triadic?.set;
  const dimcore = fullSample?.triadic?.dimcore ?? triadic?.dimcore;
  const snr = triadic?.snr?.nodes;

  // ---- curriculum evidence as bands ----
  const objectives = report.data?.objectives ?? [];
  // Evidence for segment "*" (or an unknown segment) is session-wide: clipped onto every segment it overlaps.
  const tlBands: TimelineBand[] = objectives.flatMap((o, oi) =>
    o.evidence.flatMap((ev, ei) => {
      const band = {
        t_from: ev.t_from,
        t_to: ev.t_to,
        color: o.passed ? "#16a34a" : "#dc2626",
        title: `${o.passed ? "PASS" : "FAIL"} ${o.text}: ${ev.note}`,
        key: `${oi}.${ei}`,
      };
      if (segments.some((sg) => sg.segment_id === ev.segment_id)) return [{ ...band, segment_id: ev.segment_id }];
      return segments
        .filter((sg) => ev.t_to >= sg.t_min && ev.t_from <= sg.t_max)
        .map((sg) => ({
          ...band,
          segment_id: sg.segment_id,
          t_from: Math.max(ev.t_from, sg.t_min),
          t_to: Math.min(ev.t_to, sg.t_max),
        }));
    }),
  );
  // Session-wide evidence stays on the timeline only; the plots shade evidence tied to this segment.
  const segEvidence = new Set(
    objectives.flatMap((o, oi) => o.evidence.map((ev, ei) => (ev.segment_id === seg.segment_id ? `${oi}.${ei}` : ""))),
  );
  const plotBands: Band[] = tlBands
    .filter((b) => b.segment_id === seg.segment_id && segEvidence.has(b.key))
    .map((b) => ({ ...b, color: b.color === "#16a34a" ? "rgba(22,163,74,0.12)" : "rgba(220,38,38,0.12)" }));
  const segNotes = notes.filter((n) => !n.segment_id || n.segment_id === seg.segment_id);
  const showAnoms = ov.has("anomalies");
  const notesKey = JSON.stringify(segNotes);
  const bandsKey = JSON.stringify(plotBands);
  // biome-ignore lint/correctness/useExhaustiveDependencies: keyed by content, not identity
  const overlays = useMemo(
    () => ({
      anomalies: segAnoms,
      showAnomalies: showAnoms,
      notes: segNotes,
      bands: plotBands,
      range: { from: fromT, to: toT },
    }),
    [segAnoms, showAnoms, notesKey, bandsKey, fromT, toT],
  );

  const [drawn, setDrawn] = useState<{ cols: Columns; at: number } | null>(null);
  const drawnFor = useRef<Columns | null>(null);
  const onDrawn = useCallback((forCols: Columns) => {
    if (drawnFor.current === forCols) return;
    drawnFor.current = forCols;
    // "drawn": all four canvases rendered; "painted": the next frame (read by bench/replay-ui).
    performance.mark("rtt:plots-drawn");
    requestAnimationFrame(() => {
      performance.mark("rtt:plots-painted");
      setDrawn({ cols: forCols, at: performance.now() });
    });
  }, []);

  const notesPanel = (
    <NotesPanel
      id={id}
      notes={notes}
      error={notesErr}
      seg={seg}
      t={sampleT ?? t}
      segments={segments}
      onAdded={(n) => setNotes((old) => [...old, n])}
      onSeek={(sid, tt) => seek(sid, tt)}
    />
  );
  const backParams = { sel: id };
  const modeParams = { ...params, view: curriculum ? "replay" : "curriculum" };

  return (
    <div className="replay" data-testid={curriculum ? "curriculum-view" : "replay-view"}>
      <div className="replay-head">
        <a className="back" href={href(backParams)} onClick={(e) => onLinkClick(e, backParams)} data-testid="back">
          ← Sessions
        </a>
        <h1 data-testid="replay-header">
          {curriculum ? (
            <>
              Curriculum Mode: {detail.scenario} <span className="muted">({detail.difficulty})</span>
            </>
          ) : (
            <>
              Session <span className="mono">{id}</span>
            </>
          )}
        </h1>
        <span>
          Operator <strong>{shortOperator(detail.operator_id, detail.operator_display)}</strong>
        </span>
        <span>
          Level <strong>{detail.mastery_level ?? "—"}</strong>
        </span>
        <span>
          Score <strong data-testid="header-score">{fmtNum(detail.score_final, 1)}</strong>
        </span>
        {!curriculum ? (
          <span className="muted" title={fmtTime(detail.timestamp)}>
            {detail.device_type ?? detail.device} · {detail.scenario}
          </span>
        ) : null}
        <span className="spacer" />
        <a
          className="button"
          href={href(modeParams)}
          onClick={(e) => onLinkClick(e, modeParams)}
          data-testid="mode-switch"
        >
          {curriculum ? "Plain replay" : "Curriculum mode"}
        </a>
        <a className="button" href={api.exportUrl(id)} download={`${id}.json`}>
          Export JSON
        </a>
      </div>

      {curriculum ? (
        <CurriculumPanel
          report={report}
          reload={reloadReport}
          onSeek={(sid, tt) => seek(sid, tt)}
          segments={segments}
        />
      ) : null}
      <div className="tabs" role="tablist" aria-label="Segments">
        {segments.map((s, i) => (
          <button
            type="button"
            role="tab"
            key={s.segment_id}
            aria-selected={s.segment_id === seg.segment_id}
            data-testid="segment-tab"
            data-segment={s.segment_id}
            onClick={() => seek(s.segment_id, s.t_min)}
            title={`Key ${i + 1}`}
          >
            {s.label}
            <span className="muted small">
              {" "}
              {s.sample_count} · {fmtNum(s.duration, 2)}s
            </span>
            {s.anomaly_count ? <SeverityBadge severity={s.max_severity ?? undefined} /> : null}
          </button>
        ))}
      </div>

      <Timeline
        segments={segments}
        current={{ segment_id: seg.segment_id, t }}
        anomalies={anoms?.bySeg ?? {}}
        notes={notes}
        bands={tlBands}
        showAnomalies={ov.has("anomalies")}
        showBoundaries={ov.has("boundaries")}
        onSeek={(sid, tt) => seek(sid, tt)}
      />
      {anoms && !anoms.complete ? (
        <p className="muted small" role="status">
          Some anomaly markers could not be loaded (very large session).
        </p>
      ) : null}

      <div className="controls" data-testid="controls">
        <button
          type="button"
          className="primary play"
          onClick={() => setPlaying((p) => !p)}
          data-testid="play"
          aria-pressed={playing}
          aria-keyshortcuts="Space"
        >
          {playing ? "❚❚ Pause" : "▶ Play"}
        </button>
        <button type="button" onClick={() => step(-1)} data-testid="step-back" aria-keyshortcuts="ArrowLeft">
          ◀ Step
        </button>
        <button type="button" onClick={() => step(1)} data-testid="step-forward" aria-keyshortcuts="ArrowRight">
          Step ▶
        </button>
        <label>
          Speed
          <select
            value={speed}
            data-testid="speed"
            onChange={(e) => {
              setSpeed(Number(e.target.value));
              update({ speed: e.target.value === "1" ? undefined : e.target.value }, { replace: true });
            }}
          >
            {SPEEDS.map((s) => (
              <option key={s} value={s}>
                {s}×
              </option>
            ))}
          </select>
        </label>
        <label className="check">
          <input
            type="checkbox"
            checked={loop}
            data-testid="loop"
            onChange={(e) => {
              setLoop(e.target.checked);
              update({ loop: e.target.checked ? "1" : undefined }, { replace: true });
            }}
          />
          Loop
        </label>
        <RangeInput label="From t" value={fromT} param="from_t" seg={seg} />
        <RangeInput label="To t" value={toT} param="to_t" seg={seg} />
        <label>
          Jump to anomaly
          <select
            data-testid="jump-anomaly"
            value=""
            disabled={!allAnoms.length}
            onChange={(e) => {
              const hit = allAnoms.find((x) => x.key === e.target.value);
              if (hit) seek(hit.seg.segment_id, hit.a.t);
            }}
          >
            <option value="">{allAnoms.length ? `${allAnoms.length} anomalies…` : "no anomalies"}</option>
            {allAnoms.map((x) => (
              <option key={x.key} value={x.key}>
                {`${x.seg.label} ${fmtT(x.a.t)} · ${x.a.type} · sev ${x.a.severity ?? "?"}`}
              </option>
            ))}
          </select>
        </label>
        <span className="time mono" data-testid="current-t" aria-live="off">
          {seg.label} t={fmtT(t, 4)}
        </span>
      </div>
      {streamErr ? (
        <p className="error-text" role="alert">
          {streamErr}
        </p>
      ) : null}

      <div className="replay-body">
        <section className="plots-col" aria-label="Plots">
          {cols.state === "loading" ? (
            <Loading what={`${seg.sample_count.toLocaleString()} samples`} testid="plots-loading" />
          ) : cols.state === "error" ? (
            <ErrorBox error={cols.error} what="the samples" retry={reloadCols} />
          ) : cols.data.n === 0 ? (
            <Empty testid="plots-empty">This segment has no samples. Pick another segment tab above.</Empty>
          ) : (
            <>
              <Plots
                columns={cols.data}
                overlays={overlays}
                t={t}
                onSeek={(tt) => seek(seg.segment_id, tt)}
                onDrawn={onDrawn}
                detail={zoomDetail}
                onZoom={onZoom}
              />
              <span
                className="sr-only"
                data-testid="plots-drawn"
                data-drawn={drawn?.cols === cols.data}
                data-n={cols.data.n}
                data-n-total={nTotal}
                data-decimated={!!cols.data.decimated}
              />
            </>
          )}
          <p className="muted small keys">
            Keys: <kbd>Space</kbd> play/pause · <kbd>←</kbd>/<kbd>→</kbd> step (<kbd>Shift</kbd> ×10) · <kbd>[</kbd>/
            <kbd>]</kbd> previous/next anomaly · <kbd>1</kbd>–<kbd>9</kbd> segment · <kbd>Home</kbd>/<kbd>End</kbd>
          </p>
          {curriculum ? notesPanel : null}
        </section>

        <aside className="side" aria-label="Inspector and overlays">
          <section className="inspector" data-testid="inspector" aria-label="Event inspector">
            <h3>Event inspector</h3>
            <dl className="kv">
              <dt>current t</dt>
              <dd className="mono" data-testid="inspector-t">
                {fmtNum(sampleT ?? t, 6)}
              </dd>
              <dt>segment</dt>
              <dd>{seg.label}</dd>
            </dl>
            {hereAnoms.length ? (
              hereAnoms.map((a) => (
                <div
                  className="anomaly-card"
                  key={`${a.t}-${a.type}`}
                  style={{ borderColor: sevColor(a.severity) }}
                  data-testid="inspector-anomaly"
                >
                  <SeverityBadge severity={a.severity} /> <strong>{a.type}</strong>{" "}
                  <span className="muted">
                    severity {a.severity ?? "?"} ({SEVERITY_NAMES[a.severity ?? 0] ?? "unrated"})
                  </span>
                  {a.details ? <pre className="json">{JSON.stringify(a.details, null, 1)}</pre> : null}
                </div>
              ))
            ) : (
              <p className="muted small">No anomaly at this t.</p>
            )}
            {cur ? (
              <table className="mini" data-testid="inspector-sample">
                <tbody>
                  {(["C", "D", "Q", "R"] as const).map((k) => (
                    <tr key={k}>
                      <th>{k}</th>
                      <td className="mono" data-testid={`inspector-${k}`}>
                        {fmtNum(cur[k], 6)}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            ) : null}
            {fullSample ? <ExtraFields sample={fullSample} /> : null}
          </section>

          <section className="overlays" aria-label="Overlays" data-testid="overlays">
            <h3>Overlays</h3>
            {OVERLAYS.map(([k, label]) => {
              const avail =
                k === "anomalies" ||
                k === "boundaries" ||
                (k === "set" ? !!setVals : k === "dimcore" ? !!dimcore : !!snr?.length);
              return (
                <label key={k} className={`check ${avail ? "" : "unavailable"}`}>
                  <input
                    type="checkbox"
                    checked={avail && ov.has(k)}
                    disabled={!avail}
                    onChange={() => toggleOverlay(k)}
                    data-testid={`overlay-${k}-toggle`}
                  />
                  {label}
                  {!avail ? <span className="muted small"> (not in this session)</span> : null}
                </label>
              );
            })}
            {ov.has("set") && setVals ? <SetView set={setVals} /> : null}
            {ov.has("dimcore") && dimcore ? <DimCoreView dimcore={dimcore} /> : null}
            {ov.has("snr") && snr?.length ? <SnrGraph nodes={snr} /> : null}
          </section>

          {!curriculum ? notesPanel : null}
        </aside>
      </div>
    </div>
  );
}

function ExtraFields({ sample }: { sample: Sample }) {
  const extra = Object.entries(sample).filter(([k]) => !["t", "C", "D", "Q", "R"].includes(k));
  if (!extra.length) return null;
  return (
    <details className="extra">
      <summary>Full sample</summary>
      <pre className="json">{JSON.stringify(sample, null, 1)}</pre>
    </details>
  );
}

function RangeInput({ label, value, param, seg }: { label: string; value?: number; param: string; seg: SegmentInfo }) {
  const [text, setText] = useState(value === undefined ? "" : String(value));
  useEffect(() => setText(value === undefined ? "" : String(value)), [value]);
  const commit = () => {
    const v = text.trim();
    if (v === "" || !Number.isFinite(Number(v))) update({ [param]: undefined }, { replace: true });
    else update({ [param]: String(Math.min(seg.t_max, Math.max(seg.t_min, Number(v)))) }, { replace: true });
  };
  return (
    <label>
      {label}
      <input
        className="t-input"
        type="number"
        step="any"
        inputMode="decimal"
        placeholder={String(Number((param === "from_t" ? seg.t_min : seg.t_max).toFixed(3)))}
        value={text}
        data-testid={param.replace("_", "-")}
        onChange={(e) => setText(e.target.value)}
        onBlur={commit}
        onKeyDown={(e) => e.key === "Enter" && commit()}
      />
    </label>
  );
}

function CurriculumPanel(props: {
  report: ReturnType<typeof useAsync<CurriculumReport | null>>[0];
  reload: () => void;
  segments: SegmentInfo[];
  onSeek: (segId: string, t: number) => void;
}) {
  const { report, reload, segments, onSeek } = props;
  if (report.state === "loading") return <Loading what="the curriculum report" />;
  if (report.state === "error") return <ErrorBox error={report.error} what="the curriculum report" retry={reload} />;
  const r = report.data;
  if (!r) return null;
  const label = (sid: string) => segments.find((s) => s.segment_id === sid)?.label ?? (sid === "*" ? "session" : sid);
  const passed = r.objectives.filter((o) => o.passed).length;
  return (
    <section className="curriculum" data-testid="curriculum" aria-label="Curriculum">
      <div>
        <h3>
          Objectives{" "}
          <span className="muted small" data-testid="objectives-summary">
            {passed}/{r.objectives.length} passed
          </span>
        </h3>
        {r.objectives.length === 0 ? (
          <p className="muted">This scenario defines no objectives.</p>
        ) : (
          <ol className="objectives">
            {r.objectives.map((o) => (
              <li key={o.id} data-testid="objective" data-passed={o.passed}>
                <span className={`verdict ${o.passed ? "pass" : "fail"}`}>{o.passed ? "✓ PASS" : "✗ FAIL"}</span>{" "}
                {o.text}
                {o.evidence.length ? (
                  <ul className="evidence">
                    {o.evidence.map((ev) => (
                      <li key={`${ev.segment_id}-${ev.t_from}-${ev.t_to}-${ev.note}`}>
                        <button
                          type="button"
                          className="linklike"
                          onClick={() => {
                            const sg =
                              segments.find((x) => x.segment_id === ev.segment_id) ??
                              segments.find((x) => ev.t_from >= x.t_min && ev.t_from <= x.t_max) ??
                              segments[0];
                            onSeek(sg.segment_id, Math.min(Math.max(ev.t_from, sg.t_min), sg.t_max));
                          }}
                          data-testid="evidence-link"
                        >
                          {label(ev.segment_id)} {fmtT(ev.t_from)}–{fmtT(ev.t_to)}
                        </button>{" "}
                        <span className="muted">{ev.note}</span>
                      </li>
                    ))}
                  </ul>
                ) : null}
              </li>
            ))}
          </ol>
        )}
      </div>
      <div>
        <h3>Recommended drills</h3>
        {r.drills.length === 0 ? (
          <p className="muted" data-testid="no-drills">
            No drills needed: no anomalies called for remediation.
          </p>
        ) : (
          <ul className="drills" data-testid="drills">
            {groupDrills(r.drills).map((g) => (
              <li key={g.anomaly_type}>
                <span className="mono">{g.anomaly_type}</span>:{" "}
                {g.drills.map((d, i) => (
                  <span key={d}>
                    {i ? " · " : ""}
                    <strong data-testid="drill">{d.replace(/^"(.*)"$/, "$1")}</strong>
                  </span>
                ))}
                <div className="muted small">{g.reasons.join(" ")}</div>
              </li>
            ))}
          </ul>
        )}
      </div>
    </section>
  );
}

function groupDrills(drills: CurriculumReport["drills"]) {
  const out: { anomaly_type: string; drills: string[]; reasons: string[] }[] = [];
  for (const d of drills) {
    let g = out.find((x) => x.anomaly_type === d.anomaly_type);
    if (!g) {
      g = { anomaly_type: d.anomaly_type, drills: [], reasons: [] };
      out.push(g);
    }
    if (!g.drills.includes(d.drill)) g.drills.push(d.drill);
    if (!g.reasons.includes(d.reason)) g.reasons.push(d.reason);
  }
  return out;
}

function NotesPanel(props: {
  id: string;
  notes: Note[];
  error: Error | null;
  seg: SegmentInfo;
  t: number;
  segments: SegmentInfo[];
  onAdded: (n: Note) => void;
  onSeek: (segId: string, t: number) => void;
}) {
  const { id, notes, error, seg, t, segments, onAdded, onSeek } = props;
  const [text, setText] = useState("");
  const [author, setAuthor] = useState(() => localStorage.getItem("rtt.author") ?? "");
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<string | null>(null);
  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    if (!text.trim() || !author.trim()) {
      setErr("Write a note and your name first.");
      return;
    }
    setBusy(true);
    setErr(null);
    try {
      const n = await api.addNote(id, { t, text: text.trim(), author: author.trim(), segment_id: seg.segment_id });
      localStorage.setItem("rtt.author", author.trim());
      onAdded(n);
      setText("");
    } catch (ex) {
      setErr((ex as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const label = (sid?: string | null) => segments.find((s) => s.segment_id === sid)?.label ?? "";
  const sorted = [...notes].sort(
    (a, b) =>
      segments.findIndex((s) => s.segment_id === a.segment_id) -
        segments.findIndex((s) => s.segment_id === b.segment_id) || a.t - b.t,
  );
  return (
    <section className="notes" aria-label="Instructor notes" data-testid="notes">
      <h3>Instructor notes</h3>
      {error ? <p className="error-text">Notes unavailable: {error.message}</p> : null}
      {sorted.length === 0 && !error ? (
        <p className="muted small" data-testid="notes-empty">
          No notes yet. Pause where something happened and add one below.
        </p>
      ) : (
        <ul className="note-list">
          {sorted.map((n) => (
            <li key={String(n.id)} data-testid="note">
              <button
                type="button"
                className="linklike mono"
                onClick={() => onSeek(n.segment_id ?? seg.segment_id, n.t)}
              >
                {label(n.segment_id)} {fmtT(n.t)}
              </button>{" "}
              <span className="note-text">{n.text}</span> <span className="muted small">— {n.author}</span>
            </li>
          ))}
        </ul>
      )}
      <form onSubmit={submit} className="note-form" data-testid="note-form">
        <div className="muted small">
          at{" "}
          <span className="mono">
            {seg.label} t={fmtT(t, 4)}
          </span>
        </div>
        <textarea
          aria-label="Note text"
          placeholder="What happened here? Which control action preceded it?"
          value={text}
          rows={2}
          onChange={(e) => setText(e.target.value)}
          data-testid="note-text"
        />
        <div className="row">
          <input
            aria-label="Author"
            placeholder="Your name"
            value={author}
            onChange={(e) => setAuthor(e.target.value)}
            data-testid="note-author"
          />
          <button type="submit" disabled={busy} data-testid="note-submit">
            {busy ? "Saving…" : "Add note"}
          </button>
        </div>
        {err ? (
          <p className="error-text" role="alert">
            {err}
          </p>
        ) : null}
      </form>
    </section>
  );
}
