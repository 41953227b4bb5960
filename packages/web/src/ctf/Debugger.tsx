import { useState } from "react";
import type { CtfStep } from "../api.js";
import { fmtNum } from "../util.js";
import { Q_LANES, StatusBadge } from "./status.js";

export const PLAY_SPEEDS = [1, 2, 4, 8, 16, 32];

/** Breakpoints as the URL keeps them (`bp=tool=search;semantic_drift>0.8;status=critical;rewind`). */
export const readBreakpoints = (bp: string | undefined): string[] =>
  (bp ?? "")
    .split(";")
    .map((s) => s.trim())
    .filter(Boolean);

/** The debugger's controls: step / back / continue along the lineage, playback at a speed, and the breakpoints. */
export function DebuggerControls(props: {
  playing: boolean;
  speed: number;
  busy: boolean;
  breakpoints: string[];
  tools: string[];
  message: string | null;
  onBack: () => void;
  onStep: () => void;
  onContinue: () => void;
  onTogglePlay: () => void;
  onSpeed: (s: number) => void;
  onBreakpoints: (bps: string[]) => void;
}) {
  const p = props;
  const [kind, setKind] = useState("metric");
  const [metric, setMetric] = useState<string>("semantic_drift");
  const [value, setValue] = useState("0.8");
  const [tool, setTool] = useState(p.tools[0] ?? "");
  const [status, setStatus] = useState("critical");
  const cond =
    kind === "metric"
      ? `${metric}>${value}`
      : kind === "tool"
        ? `tool=${tool}`
        : kind === "status"
          ? `status=${status}`
          : "rewind";
  const valid = kind !== "metric" || (value.trim() !== "" && Number.isFinite(Number(value)));
  return (
    <section className="ctf-panel debugger" aria-label="Step debugger">
      <h3>Step debugger</h3>
      <div className="controls" role="toolbar" aria-label="Debugger controls">
        <button type="button" onClick={p.onBack} disabled={p.busy} data-testid="dbg-back" title="Back (←)">
          ◀ Back
        </button>
        <button type="button" onClick={p.onStep} disabled={p.busy} data-testid="dbg-step" title="Step (→)">
          Step ▶
        </button>
        <button
          type="button"
          onClick={p.onContinue}
          disabled={p.busy}
          data-testid="dbg-continue"
          title="Continue to the next breakpoint (c)"
        >
          Continue ▶▶
        </button>
        <button
          type="button"
          onClick={p.onTogglePlay}
          aria-pressed={p.playing}
          data-testid="dbg-play"
          title="Play the trace's evolution (Space)"
        >
          {p.playing ? "❚❚ Pause" : "▶ Play"}
        </button>
        <label>
          Speed
          <select
            value={p.speed}
            onChange={(e) => p.onSpeed(Number(e.target.value))}
            data-testid="dbg-speed"
            aria-label="Playback speed, steps per second"
          >
            {PLAY_SPEEDS.map((s) => (
              <option key={s} value={s}>
                {s} steps/s
              </option>
            ))}
          </select>
        </label>
      </div>
      <p className="dbg-message small" role="status" data-testid="dbg-message">
        {p.message ?? "\u00a0"}
      </p>
      <form
        className="bp-form"
        aria-label="Add a breakpoint"
        onSubmit={(e) => {
          e.preventDefault();
          if (valid && !p.breakpoints.includes(cond)) p.onBreakpoints([...p.breakpoints, cond]);
        }}
      >
        <label>
          Break on
          <select value={kind} onChange={(e) => setKind(e.target.value)} data-testid="bp-kind">
            <option value="metric">a metric over a value</option>
            <option value="tool">a tool</option>
            <option value="status">a status</option>
            <option value="rewind">a rewind</option>
          </select>
        </label>
        {kind === "metric" ? (
          <>
            <select
              value={metric}
              onChange={(e) => setMetric(e.target.value)}
              data-testid="bp-metric"
              aria-label="Metric"
            >
              {Q_LANES.map((q) => (
                <option key={q.key} value={q.key}>
                  {q.label}
                </option>
              ))}
              <option value="latency_ms">latency ms</option>
            </select>
            <span aria-hidden="true">&gt;</span>
            <input
              value={value}
              onChange={(e) => setValue(e.target.value)}
              inputMode="decimal"
              size={6}
              aria-label="Value"
              data-testid="bp-value"
            />
          </>
        ) : kind === "tool" ? (
          <select value={tool} onChange={(e) => setTool(e.target.value)} aria-label="Tool" data-testid="bp-tool">
            {p.tools.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        ) : kind === "status" ? (
          <select
            value={status}
            onChange={(e) => setStatus(e.target.value)}
            aria-label="Status"
            data-testid="bp-status"
          >
            {["stable", "warning", "critical", "halted"].map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        ) : null}
        <button type="submit" className="secondary" disabled={!valid} data-testid="bp-add">
          Add breakpoint
        </button>
      </form>
      {p.breakpoints.length ? (
        <ul className="bp-list" aria-label="Breakpoints" data-testid="bp-list">
          {p.breakpoints.map((b) => (
            <li key={b} data-testid="bp">
              <code>{b}</code>{" "}
              <button
                type="button"
                className="linklike"
                aria-label={`Remove breakpoint ${b}`}
                onClick={() => p.onBreakpoints(p.breakpoints.filter((x) => x !== b))}
              >
                remove
              </button>
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted small">No breakpoints: Continue runs to the end of the lineage.</p>
      )}
    </section>
  );
}

/** The current step: action, observation, tool, latency, status, its Q values and the thresholds it crossed. */
export function StepInspector({
  step,
  spec,
  ord,
}: {
  step: CtfStep | undefined;
  spec: Record<string, number> | undefined;
  ord: number;
}) {
  if (!step)
    return (
      <section className="ctf-panel inspector" aria-label="Step inspector" data-testid="step-inspector">
        <h3>Step</h3>
        <p className="muted">Loading step {ord}…</p>
      </section>
    );
  return (
    <section
      className="ctf-panel inspector"
      aria-label="Step inspector"
      data-testid="step-inspector"
      data-ord={step.ord}
      data-step={step.step_id}
    >
      <h3>
        Step <span data-testid="insp-step">{step.step_id}</span>{" "}
        <span className="muted small">
          (#{step.ord + 1} written, parent {step.parent_step_id ?? "none"})
        </span>
      </h3>
      <p>
        <StatusBadge status={step.corridor_status} />{" "}
        {step.valid ? (
          step.on_lineage ? (
            <span className="tag lineage" data-testid="insp-lineage">
              on the lineage
            </span>
          ) : (
            <span className="tag">side branch</span>
          )
        ) : (
          <span className="tag abandoned" data-testid="insp-lineage">
            abandoned by a rewind
          </span>
        )}
        {step.retry ? <span className="tag">retry</span> : null}
      </p>
      <dl className="kv">
        <dt>Action</dt>
        <dd className="mono" data-testid="insp-action">
          {step.action}
        </dd>
        <dt>Observation</dt>
        <dd className="mono" data-testid="insp-observation">
          {step.observation || <span className="muted">(empty)</span>}
        </dd>
        <dt>Tool</dt>
        <dd data-testid="insp-tool">{step.tool ?? "—"}</dd>
        <dt>Latency</dt>
        <dd data-testid="insp-latency">{step.latency_ms} ms</dd>
      </dl>
      <table className="q-table" data-testid="insp-q">
        <caption className="muted small">Q-metrics against the corridor_spec thresholds</caption>
        <thead>
          <tr>
            <th>metric</th>
            <th className="num">value</th>
            <th className="num">threshold</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {Q_LANES.map((q) => {
            const over = step.crossed.includes(q.key);
            return (
              <tr key={q.key} className={over ? "over" : undefined} data-testid={`insp-q-${q.key}`} data-over={over}>
                <td>{q.label}</td>
                <td className="num">{step.q ? fmtNum(step.q[q.key]) : "—"}</td>
                <td className="num">{fmtNum(spec?.[q.spec])}</td>
                <td>{over ? <strong className="error-text">crossed</strong> : ""}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {step.violations.length ? (
        <p className="small" data-testid="insp-violations">
          Status violations: {step.violations.join(", ")}
        </p>
      ) : null}
    </section>
  );
}
