import { useEffect, useRef } from "react";
import uPlot from "uplot";
import { api, type MasteryPoint, shortOperator } from "./api.js";
import { useQuery } from "./query.js";
import { href, onLinkClick, type Params, update, useTitle } from "./route.js";
import { Empty, ErrorBox, fmtNum, fmtTime, Loading, SeverityBadge, sevColor } from "./util.js";

export function Mastery({ params }: { params: Params }) {
  useTitle("Mastery");
  const ops = useQuery(["operators"], (s) => api.operators(s));
  if (ops.state === "loading") return <Loading what="operators" />;
  if (ops.state === "error") return <ErrorBox error={ops.error} what="operators" retry={ops.refetch} />;
  const list = ops.data;
  const [first] = list;
  if (!first)
    return (
      <Empty testid="mastery-empty">
        <strong>No operators yet.</strong>
        <p>
          Operators appear once sessions with an <code>operator_id</code> are stored. Try <code>rtt serve --demo</code>.
        </p>
      </Empty>
    );
  // An unknown ?operator= shows the first operator.
  const current = list.find((o) => o.operator_id === params.operator) ?? first;
  return (
    <div className="mastery" data-testid="mastery-view">
      <aside className="op-list" aria-label="Operators">
        <h2>Operators</h2>
        <ul>
          {list.map((o) => (
            <li key={o.operator_id}>
              <button
                type="button"
                className={o.operator_id === current.operator_id ? "op current" : "op"}
                aria-current={o.operator_id === current.operator_id}
                onClick={() => update({ operator: o.operator_id })}
                data-testid="operator"
              >
                <span className="op-name">{shortOperator(o.operator_id, o.operator_display)}</span>
                <span className="muted small">
                  level {o.level} · {o.sessions} sessions{o.operator_team ? ` · ${o.operator_team}` : ""}
                </span>
              </button>
            </li>
          ))}
        </ul>
      </aside>
      <OperatorMastery
        operatorId={current.operator_id}
        title={shortOperator(current.operator_id, current.operator_display)}
      />
    </div>
  );
}

function OperatorMastery({ operatorId, title }: { operatorId: string; title: string }) {
  const m = useQuery(["mastery", operatorId], (s) => api.mastery(operatorId, s));
  if (m.state === "loading") return <Loading what="mastery history" />;
  if (m.state === "error") return <ErrorBox error={m.error} what="mastery history" retry={m.refetch} />;
  const pts = m.data;
  const last = pts.at(-1);
  return (
    <section className="op-detail" aria-label={`Mastery of ${title}`}>
      <h1 data-testid="mastery-title">
        {title}{" "}
        <span className="muted small mono" title={operatorId}>
          {operatorId}
        </span>
      </h1>
      {!last ? (
        <Empty testid="mastery-no-sessions">This operator has no sessions yet.</Empty>
      ) : (
        <>
          <p>
            Level <strong data-testid="mastery-level">{last.level}</strong> · XP {fmtNum(last.xp, 2)} · {pts.length}{" "}
            sessions
          </p>
          <div className="charts">
            <Chart title="Mastery level over time" testid="chart-level" pts={pts} kind="level" />
            <Chart title="score_final over time" testid="chart-score" pts={pts} kind="score" />
            <Scatter pts={pts} />
            <Chart title="Anomalies per session" testid="chart-anomalies" pts={pts} kind="anomalies" />
          </div>
          <h2>Sessions</h2>
          <table className="grid compact" data-testid="mastery-table">
            <thead>
              <tr>
                <th>Time</th>
                <th className="num">Level</th>
                <th className="num">Δ XP</th>
                <th className="num">Score</th>
                <th className="num">Anoms</th>
                <th>Why</th>
              </tr>
            </thead>
            <tbody>
              {[...pts].reverse().map((p) => {
                const to = { view: "replay", session: p.session_id };
                return (
                  <tr key={p.session_id}>
                    <td className="mono">
                      <a href={href(to)} onClick={(e) => onLinkClick(e, to)}>
                        {fmtTime(p.timestamp)}
                      </a>
                    </td>
                    <td className="num">{p.level}</td>
                    <td className="num">{fmtNum(p.delta, 3)}</td>
                    <td className="num">{fmtNum(p.score_final, 1)}</td>
                    <td className="num">
                      {p.anomaly_count} {p.anomaly_count ? <SeverityBadge severity={p.max_severity} /> : null}
                    </td>
                    <td className="muted small">{p.reason}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}

function Chart({
  title,
  testid,
  pts,
  kind,
}: {
  title: string;
  testid: string;
  pts: MasteryPoint[];
  kind: "level" | "score" | "anomalies";
}) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = ref.current!;
    const xs = pts.map((p) => Date.parse(p.timestamp) / 1000);
    // uPlot needs ascending x; equal timestamps get nudged apart by a millisecond.
    for (let i = 1; i < xs.length; i++) {
      const prev = xs[i - 1]!;
      if (!(xs[i]! > prev)) xs[i] = prev + 0.001;
    }
    const ys = pts.map((p) => (kind === "level" ? p.level : kind === "score" ? p.score_final : p.anomaly_count));
    const color = kind === "level" ? "#2563eb" : kind === "score" ? "#059669" : "#f97316";
    const u = new uPlot(
      {
        width: Math.max(280, el.clientWidth),
        height: 170,
        legend: { show: false },
        cursor: { drag: { x: false, y: false } },
        scales: { y: kind === "level" ? { range: [0, 30] } : kind === "score" ? { range: [0, 100] } : {} },
        axes: [
          { stroke: "#475569", grid: { stroke: "#e2e8f0" } },
          { stroke: "#475569", grid: { stroke: "#e2e8f0" }, size: 40 },
        ],
        series: [
          {},
          kind === "anomalies"
            ? {
                label: title,
                stroke: color,
                fill: `${color}88`,
                paths: uPlot.paths.bars!({ size: [0.6, 24] }),
                points: { show: false },
              }
            : kind === "level"
              ? { label: title, stroke: color, width: 2, paths: uPlot.paths.stepped!({ align: 1 }) }
              : { label: title, stroke: color, width: 1.5, points: { show: true, size: 5 } },
        ],
      },
      [xs, ys as (number | null)[]],
      el,
    );
    const ro = new ResizeObserver(() => u.setSize({ width: Math.max(280, el.clientWidth), height: 170 }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
    };
  }, [pts, kind, title]);
  return (
    <figure className="chart" data-testid={testid}>
      <figcaption>{title}</figcaption>
      <div ref={ref} />
    </figure>
  );
}

/** score_final vs mastery level: each session a dot coloured by its worst anomaly severity. */
function Scatter({ pts }: { pts: MasteryPoint[] }) {
  const W = 400;
  const H = 170;
  const L = 36;
  const B = 22;
  const x = (lvl: number) => L + (lvl / 30) * (W - L - 8);
  const y = (s: number) => 6 + (1 - Math.min(100, Math.max(0, s)) / 100) * (H - B - 6);
  return (
    <figure className="chart" data-testid="chart-scatter">
      <figcaption>score_final vs mastery level</figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} width="100%" role="img" aria-label="score_final versus mastery level">
        {[0, 25, 50, 75, 100].map((s) => (
          <g key={s}>
            <line x1={L} x2={W - 8} y1={y(s)} y2={y(s)} stroke="#e2e8f0" />
            <text x={L - 4} y={y(s) + 4} textAnchor="end" className="tiny">
              {s}
            </text>
          </g>
        ))}
        {[0, 5, 10, 15, 20, 25, 30].map((l) => (
          <text key={l} x={x(l)} y={H - 6} textAnchor="middle" className="tiny">
            {l}
          </text>
        ))}
        {pts.map((p) =>
          p.score_final === null ? null : (
            <circle
              key={p.session_id}
              cx={x(p.level)}
              cy={y(p.score_final)}
              r={4}
              fill={p.anomaly_count ? sevColor(p.max_severity) : "#059669"}
              fillOpacity={0.75}
              stroke="#0f172a"
              strokeWidth={0.5}
            >
              <title>{`${p.session_id}: level ${p.level}, score ${fmtNum(p.score_final, 1)}, ${p.anomaly_count} anomalies`}</title>
            </circle>
          ),
        )}
      </svg>
    </figure>
  );
}
