import { useEffect, useRef } from "react";
import uPlot from "uplot";
import { api, type CtfDiffRow, type CtfDiffStep, type CtfDiffView } from "../api.js";
import { laneWidth, mountLaneStack } from "../plotStack.js";
import { useQuery } from "../query.js";
import { href, navigate, onLinkClick, type Params, update, useTitle } from "../route.js";
import { ErrorBox, fmtNum, Loading } from "../util.js";
import { Q_LANES, StatusBadge } from "./status.js";
import { traceParams } from "./TracesView.js";

const PAGE = 200;

/** Deep link of the diff of two traces. */
export const diffParams = (a: string, b: string): Params => ({ view: "trace-diff", a, b });

/**
 * `?view=trace-diff&a=ID&b=ID`: two runs compared along their final lineages (GET /ctf/diff, `rtt ctf diff`'s
 * algorithm): the first divergence, the per-metric delta waveforms B − A, the lineages side by side with the
 * divergence highlighted, and the steps only in A / only in B.
 */
export function DiffView({ params }: { params: Params }) {
  const { a, b } = params;
  useTitle(a && b ? `Diff ${a} ↔ ${b}` : "Diff traces");
  const from = params.from !== undefined && /^\d+$/.test(params.from) ? Number(params.from) : undefined;
  const diff = useQuery(
    ["ctf-diff", a, b, from ?? null],
    (s) => api.ctfDiff(a!, b!, from === undefined ? {} : { from, to: from + PAGE }, s),
    { enabled: Boolean(a && b), keepPrevious: true },
  );
  return (
    <div className="replay ctf-diff" data-testid="diff-view">
      <header className="replay-head">
        <a href={href({ view: "traces" })} onClick={(e) => onLinkClick(e, { view: "traces" })}>
          ← Traces
        </a>
        <h1>Diff</h1>
        <TracePicker a={a} b={b} />
      </header>
      {!a || !b ? (
        <p className="state empty" data-testid="diff-pick">
          Pick two traces above, or select two in the traces list and press “Diff selected”.
        </p>
      ) : diff.data ? (
        <DiffLoaded d={diff.data} />
      ) : diff.state === "error" ? (
        <ErrorBox error={diff.error} what="the diff" retry={diff.refetch} />
      ) : (
        <Loading what="the diff" testid="diff-loading" />
      )}
    </div>
  );
}

function TracePicker({ a, b }: { a?: string; b?: string }) {
  const list = useQuery(["ctf-traces"], (s) => api.ctfTraces(s));
  const ids = list.data?.traces.map((t) => t.id) ?? [];
  const pick = (side: "a" | "b", v: string) => update({ [side]: v || undefined, from: undefined });
  const sel = (side: "a" | "b", v: string | undefined) => (
    <label>
      {side.toUpperCase()}{" "}
      <select data-testid={`diff-pick-${side}`} value={v ?? ""} onChange={(e) => pick(side, e.target.value)}>
        <option value="">—</option>
        {[...new Set([...(v ? [v] : []), ...ids])].map((id) => (
          <option key={id} value={id}>
            {id}
          </option>
        ))}
      </select>
    </label>
  );
  return (
    <span className="diff-picker">
      {sel("a", a)}
      <button
        type="button"
        className="secondary"
        data-testid="diff-swap"
        disabled={!a || !b}
        onClick={() => navigate(diffParams(b!, a!))}
        title="Swap A and B"
      >
        ⇄
      </button>
      {sel("b", b)}
    </span>
  );
}

function DiffLoaded({ d }: { d: CtfDiffView }) {
  const div = d.diff.divergence;
  const side = (s: CtfDiffView["a"], name: "A" | "B") => (
    <div className="diff-side" data-testid={`diff-side-${name.toLowerCase()}`}>
      <strong>{name}</strong>{" "}
      <a href={href(traceParams(s.id))} onClick={(e) => onLinkClick(e, traceParams(s.id))}>
        {s.id}
      </a>{" "}
      <span className="muted small">
        {s.facts.task_id ?? "—"} · {s.facts.steps} steps · lineage {s.facts.lineage_length} · {s.facts.rewinds} rewinds
      </span>{" "}
      <StatusBadge status={s.facts.final_status} />
      {s.errors.length ? (
        <span className="error-text small" data-testid={`diff-errors-${name.toLowerCase()}`}>
          {" "}
          {s.errors.length} problems in this trace (first: line {s.errors[0]?.line} {s.errors[0]?.message})
        </span>
      ) : null}
    </div>
  );
  return (
    <>
      <section className="ctf-panel" data-testid="diff-summary">
        {side(d.a, "A")}
        {side(d.b, "B")}
        <p data-testid="diff-verdict" data-same={d.diff.same}>
          {d.diff.same ? <strong>Same: the runs match along their lineage.</strong> : <strong>Different.</strong>}{" "}
          {d.diff.common_prefix} common lineage steps.
        </p>
        {div ? (
          <p
            className="diff-divergence"
            data-testid="diff-divergence"
            data-index={div.index}
            data-differs={div.differs.join(",")}
          >
            First divergence at lineage index <strong>{div.index}</strong>
            {div.differs.length
              ? `: the steps differ in ${div.differs.join(", ")}`
              : `: ${div.a ? "B" : "A"}'s lineage ended, the other goes on`}
            .{" "}
            <a href="#diff-row-divergence" data-testid="diff-goto-divergence">
              Show it in the lineages
            </a>
          </p>
        ) : (
          <p data-testid="diff-divergence" data-index="">
            No divergence: the lineages are the same steps.
          </p>
        )}
      </section>
      <section className="ctf-panel" aria-label="Delta waveforms">
        <h3>Q-metric deltas, B − A along the aligned lineage</h3>
        <DeltaLanes d={d} />
        <MetricTable d={d} />
      </section>
      <AlignedLineages d={d} />
      <div className="diff-only">
        <OnlyList name="A" only={d.diff.only_in_a} testid="only-a" />
        <OnlyList name="B" only={d.diff.only_in_b} testid="only-b" />
      </div>
    </>
  );
}

function DeltaLanes({ d }: { d: CtfDiffView }) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = host.current!;
    const x = d.deltas.index;
    const divAt = d.diff.divergence?.index ?? null;
    const sync = uPlot.sync("ctf-diff");
    const width = laneWidth(el);
    const created: uPlot[] = [];
    Q_LANES.forEach((lane, li) => {
      const last = li === Q_LANES.length - 1;
      const values = d.deltas[lane.key];
      const wrap = document.createElement("div");
      wrap.className = "plot lane";
      wrap.dataset.testid = `delta-${lane.key}`;
      wrap.dataset.points = String(x.length);
      wrap.dataset.divergence = divAt === null ? "" : String(divAt);
      const nonNull = values.filter((v): v is number => v !== null);
      wrap.dataset.maxAbs = String(nonNull.reduce((m, v) => Math.max(m, Math.abs(v)), 0));
      wrap.setAttribute("role", "img");
      wrap.setAttribute("aria-label", `${lane.label}: B minus A per aligned lineage step`);
      const caption = document.createElement("div");
      caption.className = "lane-label";
      caption.textContent = `Δ ${lane.label}`;
      caption.style.color = lane.color;
      wrap.appendChild(caption);
      el.appendChild(wrap);
      const opts: uPlot.Options = {
        width,
        height: 70 + (last ? 26 : 0),
        class: "rtt-plot",
        padding: [4, 18, 0, 0],
        legend: { show: false },
        cursor: { sync: { key: sync.key }, drag: { x: true, y: false, setScale: true }, points: { show: false } },
        scales: {
          x: { time: false, range: () => [-0.5, Math.max(0.5, d.length - 0.5)] },
          y: {
            range: (_u, min, max) => {
              const m = Math.max(Math.abs(Number.isFinite(min) ? min : 0), Math.abs(Number.isFinite(max) ? max : 0));
              const r = m * 1.1 || 0.1;
              return [-r, r];
            },
          },
        },
        axes: [
          {
            size: last ? 26 : 2,
            stroke: "#475569",
            grid: { stroke: "#e2e8f0" },
            ticks: { show: last },
            values: last ? undefined : (_u: uPlot, s: number[]) => s.map(() => ""),
          },
          { size: 118, stroke: "#475569", grid: { stroke: "#e2e8f0" } },
        ],
        series: [
          { label: "lineage index" },
          {
            label: `Δ ${lane.label}`,
            stroke: lane.color,
            fill: `${lane.color}22`,
            width: 1.4,
            points: { show: x.length < 300 },
            spanGaps: false,
          },
        ],
        hooks: {
          draw: [
            (u) => {
              const ctx = u.ctx;
              const { top, height, left, width: w } = u.bbox;
              ctx.save();
              ctx.strokeStyle = "#94a3b8";
              ctx.lineWidth = devicePixelRatio;
              const y0 = u.valToPos(0, "y", true);
              ctx.beginPath();
              ctx.moveTo(left, y0);
              ctx.lineTo(left + w, y0);
              ctx.stroke();
              if (divAt !== null) {
                // The divergence: from here on the lineages no longer hold the same steps.
                const px = u.valToPos(divAt - 0.5, "x", true);
                if (px >= left && px <= left + w) {
                  ctx.fillStyle = "rgba(249,115,22,0.08)";
                  ctx.fillRect(px, top, left + w - px, height);
                  ctx.strokeStyle = "#f97316";
                  ctx.lineWidth = 2 * devicePixelRatio;
                  ctx.beginPath();
                  ctx.moveTo(px, top);
                  ctx.lineTo(px, top + height);
                  ctx.stroke();
                }
              }
              ctx.restore();
            },
          ],
        },
      };
      const u = new uPlot(opts, [x, values] as unknown as uPlot.AlignedData, wrap);
      sync.sub(u);
      u.over.addEventListener("dblclick", () => {
        for (const p of created) p.setScale("x", { min: -0.5, max: Math.max(0.5, d.length - 0.5) });
      });
      created.push(u);
    });
    el.dataset.drawn = "true";
    const teardown = mountLaneStack(el, sync, () => created);
    return () => {
      teardown();
      el.dataset.drawn = "false";
    };
  }, [d]);
  return (
    <>
      <div className="plots ctf-lanes" ref={host} data-testid="delta-lanes" />
      <p className="muted small">
        Δ = B − A at each lineage index (blank where either run has no step there). Orange: from the first divergence
        on.
        {d.deltas.decimated
          ? ` ${d.deltas.n.toLocaleString()} of ${d.deltas.n_total.toLocaleString()} indices plotted (each bucket keeps its min and max).`
          : ""}{" "}
        Drag to zoom, double-click to see all.
      </p>
    </>
  );
}

function MetricTable({ d }: { d: CtfDiffView }) {
  return (
    <table className="q-table diff-metrics" data-testid="diff-metrics">
      <thead>
        <tr>
          <th>metric</th>
          <th className="num">max |Δ| common prefix</th>
          <th className="num">at index</th>
          <th className="num">mean Δ</th>
          <th className="num">final A</th>
          <th className="num">final B</th>
          <th className="num">final Δ</th>
        </tr>
      </thead>
      <tbody>
        {Q_LANES.map((l) => {
          const m = d.diff.metrics[l.key];
          return (
            <tr key={l.key} data-testid={`diff-metric-${l.key}`}>
              <td style={{ color: l.color }}>{l.label}</td>
              <td className="num">{fmtNum(m.max_abs_delta)}</td>
              <td className="num">{m.at_index ?? "—"}</td>
              <td className="num">{fmtNum(m.mean_delta)}</td>
              <td className="num">{fmtNum(m.final_a)}</td>
              <td className="num">{fmtNum(m.final_b)}</td>
              <td className="num" data-testid={`diff-final-delta-${l.key}`}>
                {fmtNum(m.final_delta)}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function StepCell({ s, other, row }: { s: CtfDiffStep | null; other: CtfDiffStep | null; row: CtfDiffRow }) {
  if (!s)
    return (
      <td className="diff-missing muted" colSpan={3}>
        {other ? "(lineage ended)" : ""}
      </td>
    );
  const hl = (f: "tool" | "action" | "observation") => (row.differs.includes(f) ? "differs" : undefined);
  return (
    <>
      <td className="num">{s.step_id}</td>
      <td className={hl("tool")}>{s.tool ?? "—"}</td>
      <td>
        <div className={hl("action")} data-testid="diff-action">
          {s.action}
        </div>
        <div className={`small ${hl("observation") ?? "muted"}`} data-testid="diff-observation">
          {s.observation || "—"}
        </div>
      </td>
    </>
  );
}

function AlignedLineages({ d }: { d: CtfDiffView }) {
  const { from, to, rows } = d.rows;
  const k = d.diff.common_prefix;
  const div = d.diff.divergence;
  const page = (f: number) => update({ from: Math.max(0, f) });
  const state = (r: CtfDiffRow) =>
    div && r.index === div.index ? "divergence" : r.index < k ? "common" : !r.a ? "only-b" : !r.b ? "only-a" : "after";
  useEffect(() => {
    if (location.hash === "#diff-row-divergence") document.getElementById("diff-row-divergence")?.scrollIntoView();
  }, []);
  return (
    <section className="ctf-panel" aria-label="Aligned lineages" data-testid="diff-lineages">
      <h3>Lineages side by side</h3>
      <p className="muted small">
        Lineage indices {from}–{Math.max(from, to - 1)} of {d.length}. The common prefix is plain, the first divergence
        orange, what differs in a step underlined; past it each side shows its own steps.{" "}
        <button type="button" className="secondary" disabled={from === 0} onClick={() => page(from - PAGE)}>
          ← Earlier
        </button>{" "}
        <button
          type="button"
          className="secondary"
          disabled={to >= d.length}
          onClick={() => page(to)}
          data-testid="diff-later"
        >
          Later →
        </button>
      </p>
      <table className="traces-table diff-table">
        <thead>
          <tr>
            <th className="num">#</th>
            <th className="num">A step</th>
            <th>tool</th>
            <th>action / observation</th>
            <th className="num">B step</th>
            <th>tool</th>
            <th>action / observation</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => {
            const st = state(r);
            return (
              <tr
                key={r.index}
                id={st === "divergence" ? "diff-row-divergence" : undefined}
                className={`diff-row ${st}`}
                data-testid="diff-row"
                data-index={r.index}
                data-state={st}
                data-differs={r.differs.join(",")}
              >
                <td className="num">{r.index}</td>
                <StepCell s={r.a} other={r.b} row={r} />
                <StepCell s={r.b} other={r.a} row={r} />
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}

function OnlyList({ name, only, testid }: { name: string; only: CtfDiffView["diff"]["only_in_a"]; testid: string }) {
  return (
    <section className="ctf-panel" data-testid={testid} data-count={only.count}>
      <h3>
        Only in {name}: {only.count} lineage steps
      </h3>
      {only.count === 0 ? (
        <p className="muted small">None: {name}'s lineage is part of the common prefix.</p>
      ) : (
        <ol className="bp-list">
          {only.steps.map((s) => (
            <li key={s.step_id} data-testid={`${testid}-step`}>
              step {s.step_id} [{s.tool ?? "—"}] {s.action}
            </li>
          ))}
          {only.count > only.steps.length ? <li className="muted">… {only.count - only.steps.length} more</li> : null}
        </ol>
      )}
    </section>
  );
}
