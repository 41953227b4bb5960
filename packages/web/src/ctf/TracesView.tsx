import { useState } from "react";
import { api, type CtfTraceRow } from "../api.js";
import { useQuery } from "../query.js";
import { href, navigate, onLinkClick, type Params, update, useTitle } from "../route.js";
import { Empty, ErrorBox, fmtTime, Loading } from "../util.js";
import { StatusBadge } from "./status.js";

const STATUSES = ["stable", "warning", "critical", "halted"] as const;

/** The filters of the traces list, all in the URL: final status, live/complete and a text search. */
export function filterTraces(rows: CtfTraceRow[], params: Params): CtfTraceRow[] {
  const text = (params.q ?? "").trim().toLowerCase();
  return rows.filter(
    (r) =>
      (!params.status || r.final_status === params.status) &&
      (!params.state || (params.state === "live" ? r.live : !r.live)) &&
      (!text || r.id.toLowerCase().includes(text) || (r.task_id ?? "").toLowerCase().includes(text)),
  );
}

/** Deep link of a trace's view (and, with `step`, of one step in it). */
export const traceParams = (id: string, step?: number): Params =>
  step === undefined ? { view: "trace", trace: id } : { view: "trace", trace: id, step: String(step) };

/** Deep link of a trace's live monitor. */
export const liveParams = (id: string): Params => ({ view: "trace-live", trace: id });

/** `?view=traces`: every stored Corridor Trace File (GET /ctf/overview), filtered, each row a deep link. */
export function TracesView({ params }: { params: Params }) {
  useTitle("Agent traces");
  const list = useQuery(["ctf-traces"], (s) => api.ctfTraces(s));
  const set = (k: string, v: string | undefined) => update({ [k]: v }, { replace: true });
  const filtered = Boolean(params.status || params.state || params.q);
  return (
    <div className="browser traces" data-testid="traces-view">
      <section className="filters" aria-label="Trace filters">
        <label>
          Final status
          <select
            data-testid="trace-filter-status"
            value={params.status ?? ""}
            onChange={(e) => set("status", e.target.value || undefined)}
          >
            <option value="">All</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          State
          <select
            data-testid="trace-filter-state"
            value={params.state ?? ""}
            onChange={(e) => set("state", e.target.value || undefined)}
          >
            <option value="">All</option>
            <option value="live">Live (being written)</option>
            <option value="complete">Complete</option>
          </select>
        </label>
        <label>
          Search
          <input
            type="search"
            data-testid="trace-filter-text"
            placeholder="task or trace id"
            value={params.q ?? ""}
            onChange={(e) => set("q", e.target.value || undefined)}
          />
        </label>
        {filtered ? (
          <button
            type="button"
            className="secondary"
            data-testid="trace-clear-filters"
            onClick={() => update({ status: undefined, state: undefined, q: undefined }, { replace: true })}
          >
            Clear filters
          </button>
        ) : null}
      </section>
      {list.state === "loading" ? (
        <Loading what="the traces" testid="traces-loading" />
      ) : list.state === "error" ? (
        <ErrorBox error={list.error} what="the traces" retry={list.refetch} />
      ) : (
        <TraceTable rows={filterTraces(list.data.traces, params)} total={list.data.traces.length} params={params} />
      )}
    </div>
  );
}

function TraceTable({ rows, total, params }: { rows: CtfTraceRow[]; total: number; params: Params }) {
  // Two traces ticked open the diff view; a third tick replaces the older one.
  const [picked, setPicked] = useState<string[]>([]);
  if (total === 0)
    return (
      <Empty testid="traces-empty">
        <strong>No agent traces are stored yet.</strong>
        <p>
          Upload one with <code>rtt ctf upload FILE</code> (or <code>POST /ctf</code>), or start the server with{" "}
          <code>--demo</code> for the example agent's traces.
        </p>
      </Empty>
    );
  if (rows.length === 0)
    return (
      <Empty testid="traces-empty">
        <strong>No trace matches these filters.</strong> <p>Clear the filters to see all {total} traces.</p>
      </Empty>
    );
  const open = (id: string) => navigate(traceParams(id));
  const toggle = (id: string) => setPicked((p) => (p.includes(id) ? p.filter((x) => x !== id) : [...p, id].slice(-2)));
  const [pa, pb] = picked;
  return (
    <>
      <div className="diff-bar">
        <button
          type="button"
          data-testid="trace-diff-selected"
          disabled={picked.length !== 2}
          onClick={() => navigate({ view: "trace-diff", a: pa!, b: pb! })}
        >
          Diff selected{picked.length ? ` (${picked.length} of 2)` : ""}
        </button>{" "}
        <span className="muted small">
          {picked.length === 2 ? `A = ${pa}, B = ${pb}` : "Tick two traces to compare their runs."}
        </span>
      </div>
      <table className="sessions traces-table" data-testid="traces-table">
        <caption className="muted small">
          {rows.length} of {total} traces. Enter or click opens a trace.
        </caption>
        <thead>
          <tr>
            <th>
              <span className="sr-only">Compare</span>
            </th>
            <th>Trace</th>
            <th>Task</th>
            <th className="num">Steps</th>
            <th className="num">Lineage</th>
            <th className="num">Rewinds</th>
            <th>Final status</th>
            <th>Violations</th>
            <th>State</th>
            <th>Modified</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) => (
            <tr
              key={r.id}
              tabIndex={0}
              data-testid="trace-row"
              data-trace={r.id}
              aria-selected={params.sel === r.id}
              onClick={() => open(r.id)}
              onKeyDown={(e) => {
                if (e.key === "Enter") open(r.id);
                else if (e.key === "ArrowDown" || e.key === "ArrowUp") {
                  e.preventDefault();
                  const j = Math.max(0, Math.min(rows.length - 1, i + (e.key === "ArrowDown" ? 1 : -1)));
                  (e.currentTarget.parentElement?.children[j] as HTMLElement | undefined)?.focus();
                }
              }}
            >
              <td>
                <input
                  type="checkbox"
                  data-testid="trace-pick"
                  aria-label={`Compare ${r.id}`}
                  checked={picked.includes(r.id)}
                  onClick={(e) => e.stopPropagation()}
                  onKeyDown={(e) => e.stopPropagation()}
                  onChange={() => toggle(r.id)}
                />
              </td>
              <td>
                <a
                  href={href(traceParams(r.id))}
                  onClick={(e) => {
                    e.stopPropagation();
                    onLinkClick(e, traceParams(r.id));
                  }}
                  data-testid="trace-link"
                >
                  {r.id}
                </a>
                {r.error ? <span className="error-text small"> {r.error}</span> : null}
              </td>
              <td>{r.task_id ?? "—"}</td>
              <td className="num" data-testid="trace-steps">
                {r.steps}
              </td>
              <td className="num">{r.lineage_steps}</td>
              <td className="num" data-testid="trace-rewinds">
                {r.rewinds}
              </td>
              <td>
                <StatusBadge status={r.final_status} />
              </td>
              <td className="small" data-testid="trace-violations">
                {Object.entries(r.violations)
                  .map(([k, v]) => `${k} ×${v}`)
                  .join(", ") || "—"}
              </td>
              <td data-testid="trace-state">
                {r.live ? (
                  <a
                    className="live-dot"
                    href={href(liveParams(r.id))}
                    title="Watch it being written"
                    data-testid="trace-live-link"
                    onClick={(e) => {
                      e.stopPropagation();
                      onLinkClick(e, liveParams(r.id));
                    }}
                  >
                    live
                  </a>
                ) : (
                  "complete"
                )}
              </td>
              <td className="small">{fmtTime(r.modified)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
