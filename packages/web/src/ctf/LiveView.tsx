import { useCallback, useEffect, useRef, useState } from "react";
import uPlot from "uplot";
import { ApiError, api, type CtfColumns } from "../api.js";
import { laneWidth, mountLaneStack } from "../plotStack.js";
import { href, onLinkClick, type Params, useTitle } from "../route.js";
import { fmtNum } from "../util.js";
import { metricRange, stepAxis } from "./laneAxes.js";
import {
  FrameQueue,
  LIVE_LANES,
  type LiveFrame,
  type LiveHeader,
  type LiveLaneKey,
  LiveModel,
  type LiveSnapshot,
  type LiveStep,
  laneCap,
  MIN_LANE_CAP,
  OrderError,
} from "./liveModel.js";
import { Q_LANES, STATUS_BY_CODE, StatusBadge } from "./status.js";

/** Redraw the lanes and the counters at most this often (the frames are applied every animation frame). */
const RENDER_MS = 50;
/** Frames applied per animation frame at most: a long backlog (after a pause) drains without freezing the page. */
const APPLY_PER_TICK = 20_000;
const RECONNECT_MS = 1000;
/** After the socket opens, check once that nothing was appended between the snapshot and the subscription. */
const VERIFY_MS = 1000;
const EMPTY_SNAPSHOT: LiveSnapshot = {
  events: 0,
  header: null,
  complete: false,
  finalStatus: null,
  status: "stable",
  columns: null,
  rewinds: [],
  last: null,
};

const LANE_META: Record<LiveLaneKey, { label: string; color: string; spec?: string; height: number }> = {
  status: { label: "status", color: "#334155", height: 64 },
  ...(Object.fromEntries(
    Q_LANES.map((l) => [l.key, { label: l.label, color: l.color, spec: l.spec, height: 70 }]),
  ) as Record<(typeof Q_LANES)[number]["key"], { label: string; color: string; spec: string; height: number }>),
  latency_ms: { label: "latency ms", color: "#475569", height: 70 },
};

type Conn = "connecting" | "open" | "reconnecting";

/** What React shows; the points themselves go straight to uPlot. */
interface Snapshot {
  received: number;
  applied: number;
  steps: number;
  status: string | null;
  complete: boolean;
  finalStatus: string | null;
  taskId: string | null;
  task: string | null;
  last: LiveStep | null;
  lastQ: Partial<Record<LiveLaneKey, number | null>>;
  rewinds: number;
  decimated: number;
  conn: Conn;
  reloads: number;
  note: string | null;
}

/**
 * `?view=trace-live&trace=ID[&cap=N]`: a trace's lanes growing as its events arrive over the live WebSocket (App
 * renders it only with a trace id).
 */
export function LiveView({ id, params }: { id: string; params: Params }) {
  const cap = laneCap(params.cap);
  useTitle(`Live ${id}`);
  return <LiveMonitor key={`${id}:${cap}`} id={id} cap={cap} />;
}

function LiveMonitor({ id, cap }: { id: string; cap: number }) {
  const host = useRef<HTMLDivElement>(null);
  const [paused, setPaused] = useState(false);
  const pausedRef = useRef(false);
  const [snap, setSnap] = useState<Snapshot>({
    received: 0,
    applied: 0,
    steps: 0,
    status: null,
    complete: false,
    finalStatus: null,
    taskId: null,
    task: null,
    last: null,
    lastQ: {},
    rewinds: 0,
    decimated: 0,
    conn: "connecting",
    reloads: 0,
    note: null,
  });

  useEffect(() => {
    const el = host.current!;
    let model = new LiveModel(cap);
    const queue = new FrameQueue();
    /** The seq after the newest frame received on this connection: "live". */
    let received = 0;
    let conn: Conn = "connecting";
    let reloads = 0;
    let note: string | null = null;
    /** Why the view must reload the stored trace before it applies anything more (a gap, an overflow). */
    let stale: string | null = null;
    let snapshotting = false;
    let abort: AbortController | null = null;
    let ws: WebSocket | null = null;
    let reconnectTimer: number | undefined;
    let retryTimer: number | undefined;
    let verifyTimer: number | undefined;
    let raf = 0;
    let lastRender = 0;
    let dirty = true;
    let gone = false;

    // One uPlot per lane on a shared x (step position) and cursor.
    const sync = uPlot.sync(`ctf-live-${id}`);
    const width = () => laneWidth(el);
    const plots = new Map<LiveLaneKey, { u: uPlot; wrap: HTMLDivElement }>();
    LIVE_LANES.forEach((key, li) => {
      const meta = LANE_META[key];
      const last = li === LIVE_LANES.length - 1;
      const wrap = document.createElement("div");
      wrap.className = "plot lane";
      wrap.dataset.testid = `live-lane-${key}`;
      wrap.setAttribute("role", "img");
      wrap.setAttribute("aria-label", `${meta.label} per step, live`);
      const caption = document.createElement("div");
      caption.className = "lane-label";
      caption.textContent = meta.label;
      caption.style.color = meta.color;
      wrap.appendChild(caption);
      el.appendChild(wrap);
      const threshold = () => (meta.spec ? model.header?.corridor_spec?.[meta.spec] : undefined);
      const opts: uPlot.Options = {
        width: width(),
        height: meta.height + (last ? 26 : 0),
        class: "rtt-plot",
        padding: [4, 18, 0, 0],
        legend: { show: false },
        cursor: { sync: { key: sync.key }, drag: { x: false, y: false }, points: { show: false } },
        scales: {
          x: { time: false, range: () => [0, Math.max(1, model.steps - 1)] },
          y: key === "status" ? { range: [-0.5, 3.5] } : { range: metricRange(threshold) },
        },
        axes: [
          stepAxis(last),
          {
            size: 118,
            stroke: "#475569",
            grid: { stroke: "#e2e8f0" },
            splits: key === "status" ? () => [0, 1, 2, 3] : undefined,
            values: key === "status" ? (_u: uPlot, s: number[]) => s.map((v) => STATUS_BY_CODE[v] ?? "") : undefined,
          },
        ],
        series: [
          { label: "step" },
          {
            label: meta.label,
            stroke: meta.color,
            width: 1.4,
            paths: key === "status" ? uPlot.paths.stepped?.({ align: 1 }) : undefined,
            points: { show: false },
            spanGaps: false,
          },
        ],
        hooks: {
          draw: [
            (u) => {
              const ctx = u.ctx;
              const { top, height, left, width: w } = u.bbox;
              ctx.save();
              ctx.beginPath();
              ctx.rect(left, top, w, height);
              ctx.clip();
              const t = threshold();
              if (t !== undefined) {
                const y = u.valToPos(t, "y", true);
                ctx.setLineDash([5 * devicePixelRatio, 4 * devicePixelRatio]);
                ctx.strokeStyle = "#dc2626";
                ctx.lineWidth = devicePixelRatio;
                ctx.beginPath();
                ctx.moveTo(left, y);
                ctx.lineTo(left + w, y);
                ctx.stroke();
              }
              const cols = new Set<number>();
              for (const r of model.rewinds) {
                const px = Math.round(u.valToPos(r, "x", true));
                if (px >= left && px <= left + w) cols.add(px);
              }
              ctx.setLineDash([3 * devicePixelRatio, 2 * devicePixelRatio]);
              ctx.strokeStyle = "#9333ea";
              ctx.lineWidth = 1.5 * devicePixelRatio;
              ctx.beginPath();
              for (const px of cols) {
                ctx.moveTo(px, top);
                ctx.lineTo(px, top + height);
              }
              ctx.stroke();
              ctx.restore();
              wrap.dataset.rewindMarkers = String(cols.size);
            },
          ],
        },
      };
      const lane = model.lanes[key];
      const u = new uPlot(opts, [lane.x, lane.y] as unknown as uPlot.AlignedData, wrap);
      sync.sub(u);
      plots.set(key, { u, wrap });
    });
    const lanes = function* () {
      for (const { u } of plots.values()) yield u;
    };
    const teardownLanes = mountLaneStack(el, sync, lanes);

    const render = () => {
      lastRender = performance.now();
      dirty = false;
      let decimated = 0;
      const lastQ: Snapshot["lastQ"] = {};
      for (const [key, { u, wrap }] of plots) {
        const lane = model.lanes[key];
        decimated += lane.decimated;
        u.setData([lane.x, lane.y] as unknown as uPlot.AlignedData);
        const n = lane.length;
        wrap.dataset.points = String(n);
        wrap.dataset.firstX = n ? String(lane.x[0]) : "";
        wrap.dataset.lastX = n ? String(lane.x[n - 1]) : "";
        wrap.dataset.lastY = n ? String(lane.y[n - 1]) : "";
        lastQ[key] = n ? (lane.y[n - 1] ?? null) : null;
      }
      el.dataset.applied = String(model.applied);
      el.dataset.received = String(received);
      el.dataset.steps = String(model.steps);
      setSnap({
        received,
        applied: model.applied,
        steps: model.steps,
        status: model.status,
        complete: model.complete,
        finalStatus: model.finalStatus,
        taskId: model.header?.task_id ?? null,
        task: model.header?.task ?? null,
        last: model.last,
        lastQ,
        rewinds: model.rewindCount,
        decimated,
        conn,
        reloads,
        note,
      });
    };

    /**
     * The trace as stored, then the socket's frames from the seq it ends at. Columns first: their `events` is the
     * seq to join at, and /view must agree with it (else the trace grew between the two reads: read again).
     */
    const loadSnapshot = async (signal: AbortSignal): Promise<LiveSnapshot> => {
      for (let tries = 0; ; tries++) {
        let cols: CtfColumns;
        try {
          cols = await api.ctfColumns(id, { max_points: Math.max(MIN_LANE_CAP, cap) }, signal);
        } catch (err) {
          // Not written yet: every event will come over the socket, from seq 0.
          if (err instanceof ApiError && err.status === 404) return EMPTY_SNAPSHOT;
          throw err;
        }
        const view = await api.ctfView(id, signal);
        if (view.events !== cols.events && tries < 5) {
          await new Promise((r) => setTimeout(r, 100));
          continue;
        }
        const n = cols.n_total;
        const row = n ? (await api.ctfSteps(id, { from: n - 1, to: n }, signal)).steps[0] : undefined;
        return {
          events: cols.events,
          header: view.header as LiveHeader | null,
          complete: view.complete && view.events === cols.events,
          finalStatus: view.final_status,
          status: row?.corridor_status ?? "stable",
          columns: cols,
          rewinds: view.rewinds.filter((r) => r.at <= n).map((r) => r.at),
          last: row
            ? {
                ord: row.ord,
                step_id: row.step_id,
                tool: row.tool,
                action: row.action,
                observation: row.observation,
                latency_ms: row.latency_ms,
              }
            : null,
        };
      }
    };

    /** Starts the lanes again from the stored trace; frames keep arriving meanwhile and join at its end. */
    const resnapshot = (why: string | null) => {
      if (snapshotting || gone) return;
      snapshotting = true;
      if (why) {
        reloads++;
        note = `Reloaded from the stored trace: ${why}.`;
      }
      const ctl = new AbortController();
      abort = ctl;
      loadSnapshot(ctl.signal).then(
        (snap) => {
          snapshotting = false;
          if (gone) return;
          model = new LiveModel(cap);
          model.seed(snap);
          dirty = true;
        },
        (err: Error) => {
          if (gone || err.name === "AbortError") return;
          note = `Could not read the trace (${err.message}); retrying.`;
          dirty = true;
          retryTimer = window.setTimeout(() => {
            snapshotting = false;
            resnapshot(null);
          }, RECONNECT_MS);
        },
      );
    };

    /** The socket sends only what is appended after it opens (`from=end`): history comes from the snapshot. */
    const connect = () => {
      if (gone) return;
      const sock = new WebSocket(api.ctfLiveUrl(id, "end"));
      ws = sock;
      sock.onopen = () => {
        if (ws !== sock) return;
        conn = "open";
        dirty = true;
        // The server subscribes this socket a moment after the handshake: an append in between reaches neither the
        // snapshot nor the socket. A later frame shows the hole; a trace that went quiet is checked once here.
        verifyTimer = window.setTimeout(() => {
          api.ctfView(id).then(
            (v) => {
              if (v.events > Math.max(received, model.applied) && !gone) stale = "events were appended as it opened";
            },
            () => {},
          );
        }, VERIFY_MS);
      };
      sock.onmessage = (m) => {
        if (ws !== sock) return;
        const f = JSON.parse(String(m.data)) as LiveFrame | { type: string };
        if (f.type === "event") {
          const e = f as Extract<LiveFrame, { type: "event" }>;
          received = Math.max(received, e.seq + 1);
          queue.push(e);
        } else if (f.type === "gap") {
          const g = f as Extract<LiveFrame, { type: "gap" }>;
          received = Math.max(received, g.next_seq);
          stale = `the server skipped ${g.dropped} events for this view`;
        }
        dirty = true;
      };
      sock.onclose = () => {
        if (ws !== sock || gone) return;
        ws = null;
        conn = "reconnecting";
        dirty = true;
        // Events appended while disconnected show as a hole at the next frame, which reloads the snapshot.
        reconnectTimer = window.setTimeout(connect, RECONNECT_MS);
      };
    };

    const tick = () => {
      raf = requestAnimationFrame(tick);
      if (!pausedRef.current && !snapshotting) {
        if (queue.overflowed) {
          queue.clear();
          queue.overflowed = false;
          stale = "too many events arrived while paused";
        }
        if (stale) {
          const why = stale;
          stale = null;
          resnapshot(why);
        }
        let n = 0;
        while (!snapshotting && n < APPLY_PER_TICK) {
          const f = queue.peek();
          if (!f) break;
          try {
            if (model.apply(f)) n++;
            queue.shift();
          } catch (err) {
            if (!(err instanceof OrderError)) throw err;
            // Events before this frame never reached the socket: read them from the store, then go on from here.
            resnapshot(`events were missed (${err.message})`);
          }
        }
        if (n) dirty = true;
      }
      if (dirty && performance.now() - lastRender >= RENDER_MS) render();
    };
    connect();
    resnapshot(null);
    raf = requestAnimationFrame(tick);
    return () => {
      gone = true;
      cancelAnimationFrame(raf);
      clearTimeout(reconnectTimer);
      clearTimeout(retryTimer);
      clearTimeout(verifyTimer);
      abort?.abort();
      ws?.close();
      teardownLanes();
    };
  }, [id, cap]);

  const togglePause = useCallback(() => {
    pausedRef.current = !pausedRef.current;
    setPaused(pausedRef.current);
  }, []);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const el = e.target as HTMLElement;
      if (e.key !== " " || e.ctrlKey || e.metaKey || e.altKey) return;
      if (el.closest("input, textarea, select, button, [contenteditable=true]")) return;
      e.preventDefault();
      togglePause();
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, [togglePause]);

  const behind = Math.max(0, snap.received - snap.applied);
  const s = snap.last;
  return (
    <div className="replay ctf-trace ctf-live" data-testid="live-view">
      <header className="replay-head" data-testid="live-header">
        <a href={href({ view: "traces" })} onClick={(e) => onLinkClick(e, { view: "traces" })}>
          ← Traces
        </a>
        <h1>{snap.taskId ?? id}</h1>
        <span className="live-dot" data-testid="live-state" data-state={snap.complete ? "complete" : "live"}>
          {snap.complete ? "complete" : "live"}
        </span>
        <StatusBadge status={snap.complete ? snap.finalStatus : snap.status} />
        <span
          className={`behind-badge${behind ? " lagging" : ""}`}
          data-testid="live-behind"
          data-behind={behind}
          title="Events received from the server and not drawn yet (all of them while paused)"
        >
          behind live by {behind.toLocaleString()} events
        </span>
        <button
          type="button"
          data-testid="live-pause"
          aria-pressed={paused}
          onClick={togglePause}
          title="Pause drawing (events are kept and drawn in order on resume) · Space"
        >
          {paused ? "Resume" : "Pause"}
        </button>
        <span className="spacer" />
        <a href={href({ view: "trace", trace: id })} onClick={(e) => onLinkClick(e, { view: "trace", trace: id })}>
          Trace view
        </a>
      </header>
      {snap.task ? <p className="muted small task-text">Task: {snap.task}</p> : null}
      <p className="muted small" data-testid="live-counts">
        <span data-testid="live-conn" data-conn={snap.conn}>
          {snap.conn === "open" ? "connected" : snap.conn === "connecting" ? "connecting…" : "reconnecting…"}
        </span>{" "}
        · {snap.applied.toLocaleString()} of {snap.received.toLocaleString()} events drawn ·{" "}
        <span data-testid="live-steps">{snap.steps.toLocaleString()}</span> steps · {snap.rewinds} rewinds · at most{" "}
        {cap.toLocaleString()} points per lane
        {snap.decimated ? ` (older points decimated: ${snap.decimated.toLocaleString()} folded)` : ""}
        {snap.complete ? " · the footer was written: the run is over." : ""}
      </p>
      {snap.note ? (
        <p className="small" data-testid="live-note">
          {snap.note}
        </p>
      ) : null}
      <div className="replay-body">
        <section className="plots-col" aria-label="Live waveforms">
          <div className="plots ctf-lanes" ref={host} data-testid="live-lanes" />
          {snap.received === 0 && snap.conn === "open" ? (
            <p className="muted small" data-testid="live-waiting">
              Waiting for the first event of {id}: a producer appends with <code>POST /ctf/{id}/events</code> or over
              the live WebSocket (docs/api/ctf.md).
            </p>
          ) : null}
          <p className="muted small">
            Red dashed: the corridor_spec threshold. Purple dashed: rewinds. Space pauses and resumes.
          </p>
        </section>
        <aside className="side" aria-label="Last step">
          <section className="ctf-panel inspector" data-testid="live-last">
            <h3>Last step</h3>
            {s ? (
              <>
                <dl className="kv">
                  <dt>step</dt>
                  <dd data-testid="live-last-step">{s.step_id}</dd>
                  <dt>position</dt>
                  <dd>{s.ord}</dd>
                  <dt>tool</dt>
                  <dd>{s.tool ?? "—"}</dd>
                  <dt>action</dt>
                  <dd>{s.action}</dd>
                  <dt>observation</dt>
                  <dd>{s.observation || "—"}</dd>
                  <dt>latency</dt>
                  <dd>{s.latency_ms} ms</dd>
                </dl>
                <table className="q-table">
                  <tbody>
                    {Q_LANES.map((l) => (
                      <tr key={l.key}>
                        <td>{l.label}</td>
                        <td className="num" data-testid={`live-q-${l.key}`}>
                          {fmtNum(snap.lastQ[l.key])}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </>
            ) : (
              <p className="muted small">No step yet.</p>
            )}
          </section>
        </aside>
      </div>
    </div>
  );
}
