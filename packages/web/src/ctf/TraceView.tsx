import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { api, type CtfRewind, type CtfTraceView } from "../api.js";
import { fetchQuery, prefetch, useQuery } from "../query.js";
import { href, onLinkClick, type Params, update, useTitle } from "../route.js";
import { ErrorBox, fmtNum, Loading, useLatest } from "../util.js";
import { DebuggerControls, PLAY_SPEEDS, readBreakpoints, StepInspector } from "./Debugger.js";
import { DriftHeatmap } from "./DriftHeatmap.js";
import { Lanes } from "./Lanes.js";
import { StepGraph } from "./StepGraph.js";
import { StatusBadge } from "./status.js";

/** Lane points to ask for: about 10 per CSS pixel of lane width, in [2000, 20000], a multiple of 1000. */
export function lanePointBudget(): number {
  const width = Math.max(320, (typeof window === "undefined" ? 1280 : window.innerWidth) - 420);
  return Math.min(20_000, Math.max(2_000, Math.ceil((10 * width) / 1000) * 1000));
}

const columnsQuery = (id: string) => {
  const max_points = lanePointBudget();
  return {
    key: ["ctf-columns", id, max_points] as const,
    fetcher: (s: AbortSignal) => api.ctfColumns(id, { max_points }, s),
  };
};

/** Traces up to this many steps load whole for the graph; bigger ones load a window around the cursor. */
const WHOLE_GRAPH = 2000;
const WINDOW = 600;
const URL_WRITE_MS = 300;

/**
 * `?view=trace&trace=ID`: the waveforms, the heatmap, the branching graph and the step debugger of one trace (App
 * renders it only with a trace id).
 */
export function TraceView({ id, params }: { id: string; params: Params }) {
  const facts = useQuery(["ctf-view", id], (s) => {
    // Start the lanes' data at once: it does not depend on the facts.
    const c = columnsQuery(id);
    prefetch(c.key, c.fetcher);
    return api.ctfView(id, s);
  });
  useTitle(`Trace ${id}`);
  if (facts.state === "loading") return <Loading what="the trace" testid="trace-loading" />;
  if (facts.state === "error")
    return (
      <div className="page-msg">
        <ErrorBox error={facts.error} what={`trace ${id}`} retry={facts.refetch} />
        <a href={href({ view: "traces" })} onClick={(e) => onLinkClick(e, { view: "traces" })}>
          ← Back to the traces
        </a>
      </div>
    );
  if (facts.data.steps === 0)
    return (
      <div className="page-msg" data-testid="trace-empty">
        <p>This trace has no steps yet{facts.data.complete ? "" : " (it is still being written)"}.</p>
        {facts.data.complete ? null : (
          <p>
            <a
              href={href({ view: "trace-live", trace: id })}
              onClick={(e) => onLinkClick(e, { view: "trace-live", trace: id })}
              data-testid="trace-watch-live"
            >
              Watch it live
            </a>
          </p>
        )}
        <button type="button" onClick={facts.refetch}>
          Reload
        </button>
      </div>
    );
  return <TraceLoaded facts={facts.data} params={params} />;
}

function useCursor(params: Params, n: number) {
  const fromUrl = (v: string | undefined) =>
    v !== undefined && v !== "" && Number.isInteger(Number(v)) ? Math.max(0, Math.min(n - 1, Number(v))) : n - 1;
  const [cur, setCur] = useState(() => fromUrl(params.step));
  const written = useRef(params.step);
  // biome-ignore lint/correctness/useExhaustiveDependencies: reacts to the address only
  useEffect(() => {
    if (params.step !== written.current) {
      written.current = params.step;
      setCur(fromUrl(params.step));
    }
  }, [params.step]);
  useEffect(() => {
    const t = window.setTimeout(() => {
      written.current = String(cur);
      update({ step: cur }, { replace: true });
    }, URL_WRITE_MS);
    return () => clearTimeout(t);
  }, [cur]);
  return [cur, setCur] as const;
}

function TraceLoaded({ facts, params }: { facts: CtfTraceView; params: Params }) {
  const id = facts.id;
  const n = facts.steps;
  const spec = facts.header?.corridor_spec as Record<string, number> | undefined;
  const tools = useMemo(() => facts.tools.map((t) => t.name), [facts.tools]);
  const [cur, setCur] = useCursor(params, n);
  const colsQ = columnsQuery(id);
  const cols = useQuery(colsQ.key, colsQ.fetcher, { keepPrevious: true });

  const whole = n <= WHOLE_GRAPH;
  const winFrom = whole ? 0 : Math.max(0, Math.floor(cur / 200) * 200 - 200);
  const winTo = whole ? n : Math.min(n, winFrom + WINDOW);
  const steps = useQuery(["ctf-steps", id, winFrom, winTo], (s) => api.ctfSteps(id, { from: winFrom, to: winTo }, s), {
    keepPrevious: true,
  });
  const rows = steps.data?.steps ?? [];
  const step = rows.find((s) => s.ord === cur);

  const breakpoints = readBreakpoints(params.bp);
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  const [playing, setPlaying] = useState(false);
  const speed = PLAY_SPEEDS.includes(Number(params.speed)) ? Number(params.speed) : 4;
  const rewindAt = useMemo(() => {
    const m = new Map<number, CtfRewind>();
    for (const r of facts.rewinds) m.set(r.at, r);
    return m;
  }, [facts.rewinds]);
  const latest = useLatest({ cur, breakpoints });

  const seek = useCallback(
    (ord: number) => {
      setPlaying(false);
      setMessage(null);
      setCur(Math.max(0, Math.min(n - 1, ord)));
    },
    [n, setCur],
  );

  /** The next (dir 1) or previous lineage step from the cursor, matching `when` if given. */
  const find = useCallback(
    async (dir: 1 | -1, when?: string) => {
      const q = { from: latest.current.cur, dir, lineage: true, when };
      setBusy(true);
      try {
        return await fetchQuery(["ctf-find", id, q], (s) => api.ctfFind(id, q, s));
      } catch (err) {
        setMessage(`Could not move: ${(err as Error).message}`);
        return null;
      } finally {
        setBusy(false);
      }
    },
    [id],
  );
  const stepBy = useCallback(
    async (dir: 1 | -1) => {
      setPlaying(false);
      const r = await find(dir);
      if (!r) return;
      if (r.ord === null) setMessage(dir > 0 ? "End of the lineage." : "Start of the lineage.");
      else {
        setMessage(null);
        setCur(r.ord);
      }
    },
    [find, setCur],
  );
  const cont = useCallback(async () => {
    setPlaying(false);
    const bps = latest.current.breakpoints;
    if (!bps.length) {
      const r = await find(1, "");
      if (r?.ord === null) setMessage("End of the lineage.");
      // No breakpoints: run to the lineage's last step.
      const last = await fetchQuery(["ctf-find", id, "last"], (s) =>
        api.ctfFind(id, { from: n, dir: -1, lineage: true }, s),
      );
      if (last.ord !== null) setCur(last.ord);
      setMessage("No breakpoints: ran to the end of the lineage.");
      return;
    }
    const r = await find(1, bps.join(";"));
    if (!r) return;
    if (r.ord === null) setMessage("No breakpoint hit after this step on the lineage.");
    else {
      setCur(r.ord);
      setMessage(`Breakpoint hit: ${r.hit}`);
    }
  }, [find, id, n, setCur]);

  // Playback: the trace's evolution in file order at `speed` steps per second; a rewind snaps back to the lineage.
  useEffect(() => {
    if (!playing) return;
    const timer = window.setInterval(() => {
      const next = latest.current.cur + 1;
      if (next >= n) {
        setPlaying(false);
        setMessage("Played to the last step.");
        return;
      }
      const r = rewindAt.get(next);
      setMessage(r ? `Rewind: step ${r.from_step} → step ${r.to_step}; snapped back to the lineage.` : null);
      setCur(next);
    }, 1000 / speed);
    return () => clearInterval(timer);
  }, [playing, speed, n, rewindAt, setCur]);
  const togglePlay = useCallback(() => {
    setPlaying((p) => {
      if (!p && latest.current.cur >= n - 1) setCur(0);
      return !p;
    });
  }, [n, setCur]);

  const jumpRewind = (dir: 1 | -1) => {
    const rs = facts.rewinds;
    // The step right after a rewind (its marker sits just before it): the next one after the cursor, or the last
    // one before it.
    let r: CtfRewind | undefined;
    if (dir > 0) r = rs.find((x) => x.at > cur && x.at < n);
    else for (const x of rs) if (x.at < cur) r = x;
    if (!r) return;
    seek(r.at);
    setMessage(`Rewind: step ${r.from_step} → step ${r.to_step}.`);
  };
  const keys = useLatest({ stepBy, cont, togglePlay, seek, jumpRewind, cur, n });
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const el = e.target as HTMLElement;
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      if (el.closest("input, textarea, select, [contenteditable=true]")) return;
      const k = keys.current;
      if (e.key === " " || e.key === "k") {
        if (el.closest("button")) return;
        e.preventDefault();
        k.togglePlay();
      } else if (e.key === "ArrowRight" || e.key === "ArrowLeft") {
        e.preventDefault();
        const dir = e.key === "ArrowRight" ? 1 : -1;
        if (e.shiftKey) k.seek(k.cur + dir);
        else void k.stepBy(dir);
      } else if (e.key === "c") {
        e.preventDefault();
        void k.cont();
      } else if (e.key === "]" || e.key === "[") {
        e.preventDefault();
        k.jumpRewind(e.key === "]" ? 1 : -1);
      } else if (e.key === "Home" || e.key === "End") {
        e.preventDefault();
        k.seek(e.key === "Home" ? 0 : k.n - 1);
      }
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, []);

  const h = facts.header;
  return (
    <div className="replay ctf-trace" data-testid="trace-view">
      <header className="replay-head" data-testid="trace-header">
        <a href={href({ view: "traces" })} onClick={(e) => onLinkClick(e, { view: "traces" })}>
          ← Traces
        </a>
        <h1>{h?.task_id ?? id}</h1>
        <StatusBadge status={facts.final_status} />
        <span className="muted small">
          {facts.steps} steps ({facts.lineage_steps} on the lineage) · {facts.rewind_count} rewinds ·{" "}
          {facts.events.toLocaleString()} events · {facts.complete ? "complete" : "live (no footer yet)"}
        </span>
        <span className="spacer" />
        {facts.complete ? null : (
          <a
            href={href({ view: "trace-live", trace: id })}
            onClick={(e) => onLinkClick(e, { view: "trace-live", trace: id })}
            className="small"
            data-testid="trace-watch-live"
          >
            Watch live
          </a>
        )}
        <a href={api.ctfRawUrl(id)} className="small">
          Raw .ctf
        </a>
      </header>
      {h?.task ? <p className="muted small task-text">Task: {h.task}</p> : null}
      <div className="replay-body">
        <section className="plots-col" aria-label="Waveforms">
          {cols.data ? (
            <>
              {cols.data.decimated ? (
                <p className="muted small" data-testid="lanes-decimated">
                  {cols.data.n.toLocaleString()} of {cols.data.n_total.toLocaleString()} steps plotted (min and max of
                  each lane kept per bucket).
                </p>
              ) : null}
              <Lanes columns={cols.data} tools={tools} spec={spec} rewinds={facts.rewinds} cursor={cur} onSeek={seek} />
            </>
          ) : cols.state === "error" ? (
            <ErrorBox error={cols.error} what="the lanes" retry={cols.refetch} />
          ) : (
            <Loading what="the lanes" testid="lanes-loading" />
          )}
          <p className="muted small keys">
            Keys: <kbd>←</kbd>/<kbd>→</kbd> back/step along the lineage · <kbd>Shift</kbd>+<kbd>←</kbd>/<kbd>→</kbd>{" "}
            previous/next step written · <kbd>c</kbd> continue · <kbd>Space</kbd> play/pause · <kbd>[</kbd>/<kbd>]</kbd>{" "}
            previous/next rewind · <kbd>Home</kbd>/<kbd>End</kbd>
          </p>
          {cols.data ? <DriftHeatmap heat={cols.data.heat} onSeek={seek} /> : null}
          {rows.length ? (
            <StepGraph steps={rows} rewinds={facts.rewinds} cursor={cur} onSeek={seek} partial={!whole} />
          ) : steps.state === "error" ? (
            <ErrorBox error={steps.error} what="the steps" retry={steps.refetch} />
          ) : null}
        </section>
        <aside className="side" aria-label="Debugger and inspector">
          <DebuggerControls
            playing={playing}
            speed={speed}
            busy={busy}
            breakpoints={breakpoints}
            tools={tools}
            message={message}
            onBack={() => void stepBy(-1)}
            onStep={() => void stepBy(1)}
            onContinue={() => void cont()}
            onTogglePlay={togglePlay}
            onSpeed={(s) => update({ speed: s === 4 ? undefined : s }, { replace: true })}
            onBreakpoints={(b) => update({ bp: b.join(";") || undefined }, { replace: true })}
          />
          <p className="small" data-testid="dbg-position">
            Step position <strong data-testid="dbg-ord">{cur}</strong> of {n - 1}
            {step ? ` · semantic drift ${fmtNum(step.q?.semantic_drift)}` : ""}
          </p>
          <StepInspector step={step} spec={spec} ord={cur} />
        </aside>
      </div>
    </div>
  );
}
