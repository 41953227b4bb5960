import { useState } from "react";
import { api, type SessionQuery, type SessionRow, shortOperator } from "./api.js";
import { fetchQuery, useQuery } from "./query.js";
import { href, navigate, onLinkClick, type Params, update, useTitle } from "./route.js";
import { Empty, ErrorBox, fmtNum, fmtTime, Loading, SeverityBadge } from "./util.js";

const RANGES: Record<string, { label: string; ms?: number }> = {
  "": { label: "Any time" },
  "24h": { label: "Last 24 hours", ms: 86_400_000 },
  "7d": { label: "Last 7 days", ms: 7 * 86_400_000 },
  "30d": { label: "Last 30 days", ms: 30 * 86_400_000 },
  custom: { label: "Custom…" },
};
const FILTER_KEYS = [
  "operator",
  "device_type",
  "scenario",
  "difficulty",
  "level_min",
  "level_max",
  "anom",
  "v2",
  "range",
  "from",
  "to",
];

type Page = { rows: SessionRow[]; next: string | null };
type Status = { state: "loading" | "ok" | "more" } | { state: "error"; error: Error };
const NO_ROWS: SessionRow[] = [];

function toQuery(p: Params): SessionQuery {
  const q: SessionQuery = { sort: p.sort || undefined, limit: 50 };
  if (p.operator) q.operator = p.operator;
  if (p.device_type) q.device_type = p.device_type;
  if (p.scenario) q.scenario = p.scenario;
  if (p.difficulty) q.difficulty = p.difficulty;
  if (p.level_min && p.level_min !== "0") q.level_min = Number(p.level_min);
  if (p.level_max && p.level_max !== "30") q.level_max = Number(p.level_max);
  if (p.anom === "1") q.has_anomalies = true;
  if (p.v2 === "1") q.spec_version = "v2";
  const r = RANGES[p.range ?? ""];
  if (r?.ms) q.from = new Date(Date.now() - r.ms).toISOString();
  if (p.range === "custom") {
    if (p.from) q.from = new Date(`${p.from}T00:00:00Z`).toISOString();
    if (p.to) q.to = new Date(`${p.to}T23:59:59.999Z`).toISOString();
  }
  return q;
}

export function Browser({ params }: { params: Params }) {
  useTitle("Sessions");
  const facets = useQuery(["facets"], (s) => api.facets(s));
  const query = toQuery(params);
  // A relative time range is keyed by its name, so its moving `from` does not reload the list on every render.
  const key = JSON.stringify({ ...query, from: params.range && params.range !== "custom" ? params.range : query.from });
  const first = useQuery(["sessions", key], (s) => api.sessions(query, s));
  // Pages loaded with "Load more", and that load's state, both tied to the first page they follow.
  const [more, setMore] = useState<{ of: Page; rows: SessionRow[]; next: string | null } | null>(null);
  const [moreStatus, setMoreStatus] = useState<{ of: Page; status: Status } | null>(null);
  const page = first.data;
  const extra = page && more?.of === page ? more : null;
  const rows = page ? (extra ? [...page.rows, ...extra.rows] : page.rows) : NO_ROWS;
  const next = extra ? extra.next : (page?.next ?? null);
  const status: Status =
    first.state === "error"
      ? { state: "error", error: first.error }
      : !page
        ? { state: "loading" }
        : moreStatus?.of === page
          ? moreStatus.status
          : { state: "ok" };

  const loadMore = async () => {
    if (!next || !page) return;
    const of = page;
    setMoreStatus({ of, status: { state: "more" } });
    try {
      const r = await fetchQuery(["sessions", key, next], (s) => api.sessions({ ...query, cursor: next }, s));
      setMore((old) => ({ of, rows: [...(old?.of === of ? old.rows : []), ...r.rows], next: r.next }));
      setMoreStatus(null);
    } catch (error) {
      setMoreStatus({ of, status: { state: "error", error: error as Error } });
    }
  };

  const selected = params.sel;
  const select = (id: string) => update({ sel: id }, { replace: true });
  const open = (id: string, view = "replay") => navigate({ view, session: id });
  const filtered = FILTER_KEYS.some((k) => params[k]);
  const set = (k: string, v: string | undefined) => update({ [k]: v, sel: undefined }, { replace: true });

  const sort = params.sort || "-timestamp";
  const sortHeader = (field: string, label: string) => {
    const active = sort.replace("-", "") === field;
    const desc = sort.startsWith("-");
    const nextSort = active && desc ? field : `-${field}`;
    return (
      <th aria-sort={active ? (desc ? "descending" : "ascending") : "none"}>
        <button
          type="button"
          className="linklike"
          onClick={() => set("sort", nextSort === "-timestamp" ? undefined : nextSort)}
        >
          {label}
          {active ? (desc ? " ▼" : " ▲") : ""}
        </button>
      </th>
    );
  };

  const onRowKey = (e: React.KeyboardEvent<HTMLTableRowElement>, i: number) => {
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      const j = Math.max(0, Math.min(rows.length - 1, i + (e.key === "ArrowDown" ? 1 : -1)));
      select(rows[j].session_id);
      (e.currentTarget.parentElement?.children[j] as HTMLElement | undefined)?.focus();
    } else if (e.key === "Enter") {
      open(rows[i].session_id);
    } else if (e.key === " ") {
      e.preventDefault();
      select(rows[i].session_id);
    }
  };

  const f = facets.data;
  return (
    <div className="browser">
      <section className="filters" aria-label="Filters" data-testid="filters">
        <Select
          label="Operator"
          testid="filter-operator"
          value={params.operator}
          onChange={(v) => set("operator", v)}
          options={(f?.operators ?? []).map((o) => [o.operator_id, shortOperator(o.operator_id, o.operator_display)])}
        />
        <Select
          label="Device"
          testid="filter-device"
          value={params.device_type}
          onChange={(v) => set("device_type", v)}
          options={(f?.device_types ?? []).map((d) => [d, d])}
        />
        <Select
          label="Scenario"
          testid="filter-scenario"
          value={params.scenario}
          onChange={(v) => set("scenario", v)}
          options={(f?.scenarios ?? []).map((d) => [d, d])}
        />
        <Select
          label="Difficulty"
          testid="filter-difficulty"
          value={params.difficulty}
          onChange={(v) => set("difficulty", v)}
          options={(f?.difficulties ?? []).map((d) => [d, d])}
        />
        <fieldset className="level">
          <legend>Level</legend>
          <input
            type="number"
            min={0}
            max={30}
            aria-label="Minimum level"
            data-testid="filter-level-min"
            value={params.level_min ?? "0"}
            onChange={(e) => set("level_min", clampLevel(e.target.value, "0"))}
          />
          <span aria-hidden="true">–</span>
          <input
            type="number"
            min={0}
            max={30}
            aria-label="Maximum level"
            data-testid="filter-level-max"
            value={params.level_max ?? "30"}
            onChange={(e) => set("level_max", clampLevel(e.target.value, "30"))}
          />
        </fieldset>
        <label className="check">
          <input
            type="checkbox"
            data-testid="filter-has-anomalies"
            checked={params.anom === "1"}
            onChange={(e) => set("anom", e.target.checked ? "1" : undefined)}
          />
          Has anomalies
        </label>
        <label className="check">
          <input
            type="checkbox"
            data-testid="filter-spec-v2"
            checked={params.v2 === "1"}
            onChange={(e) => set("v2", e.target.checked ? "1" : undefined)}
          />
          Spec v2
        </label>
        <Select
          label="Time range"
          testid="filter-range"
          value={params.range}
          allLabel={RANGES[""].label}
          onChange={(v) => set("range", v)}
          options={Object.entries(RANGES)
            .filter(([k]) => k)
            .map(([k, r]) => [k, r.label])}
        />
        {params.range === "custom" ? (
          <>
            <label>
              From
              <input type="date" value={params.from ?? ""} onChange={(e) => set("from", e.target.value)} />
            </label>
            <label>
              To
              <input type="date" value={params.to ?? ""} onChange={(e) => set("to", e.target.value)} />
            </label>
          </>
        ) : null}
        {filtered ? (
          <button
            type="button"
            className="secondary"
            data-testid="clear-filters"
            onClick={() => navigate(params.sort ? { sort: params.sort } : {}, { replace: true })}
          >
            Clear filters
          </button>
        ) : null}
        {facets.state === "error" ? (
          <span className="muted" role="status">
            Filter choices unavailable ({facets.error.message}).{" "}
            <button type="button" className="linklike" onClick={facets.refetch}>
              Retry
            </button>
          </span>
        ) : null}
      </section>

      <div className="browser-body">
        <section className="sessions" aria-label="Sessions">
          {status.state === "loading" ? (
            <Loading what="sessions" />
          ) : status.state === "error" && rows.length === 0 ? (
            <ErrorBox error={status.error} what="sessions" retry={first.refetch} />
          ) : rows.length === 0 ? (
            filtered ? (
              <Empty testid="empty-sessions">
                <strong>No sessions match these filters.</strong>
                <p>Widen the level range or time range, or clear the filters.</p>
                <button type="button" onClick={() => navigate({}, { replace: true })}>
                  Clear filters
                </button>
              </Empty>
            ) : (
              <Empty testid="empty-sessions">
                <strong>No sessions stored yet.</strong>
                <p>
                  Start the server with <code>rtt serve --demo</code> to load demo sessions, or send session logs to{" "}
                  <code>POST /sessions</code>.
                </p>
              </Empty>
            )
          ) : (
            <>
              <table className="grid" data-testid="sessions-table">
                <caption className="sr-only">Sessions. Arrow keys move, Enter opens the replay.</caption>
                <thead>
                  <tr>
                    {sortHeader("timestamp", "Time")}
                    <th>Operator</th>
                    {sortHeader("mastery_level", "Level")}
                    <th>Device</th>
                    <th>Scenario</th>
                    <th>Difficulty</th>
                    <th className="num">Anoms</th>
                    {sortHeader("score_final", "Score")}
                  </tr>
                </thead>
                <tbody>
                  {rows.map((r, i) => (
                    <tr
                      key={r.session_id}
                      tabIndex={0}
                      aria-selected={r.session_id === selected}
                      data-testid="session-row"
                      data-session={r.session_id}
                      onClick={() => select(r.session_id)}
                      onDoubleClick={() => open(r.session_id)}
                      onKeyDown={(e) => onRowKey(e, i)}
                    >
                      <td className="mono">{fmtTime(r.timestamp)}</td>
                      <td>{shortOperator(r.operator_id, r.operator_display)}</td>
                      <td className="num">{r.mastery_level ?? "—"}</td>
                      <td>{r.device_type ?? r.device ?? "—"}</td>
                      <td>{r.scenario ?? "—"}</td>
                      <td>{r.difficulty ?? "—"}</td>
                      <td className="num">
                        {r.anomaly_count ?? 0} {r.anomaly_count ? <SeverityBadge severity={r.max_severity} /> : null}
                      </td>
                      <td className="num">{fmtNum(r.score_final, 1)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <div className="table-foot">
                <span className="muted" data-testid="row-count">
                  {rows.length} session{rows.length === 1 ? "" : "s"}
                  {next ? " shown" : ""}
                </span>
                {next ? (
                  <button type="button" onClick={loadMore} disabled={status.state === "more"} data-testid="load-more">
                    {status.state === "more" ? "Loading…" : "Load more"}
                  </button>
                ) : null}
                {status.state === "error" ? <span className="error-text">{status.error.message}</span> : null}
              </div>
            </>
          )}
        </section>
        <aside className="summary" aria-label="Session summary" data-testid="summary">
          {selected ? (
            <Summary id={selected} />
          ) : (
            <Empty testid="summary-empty">
              Select a session to see its summary. <span className="muted">(↑/↓ move, Enter opens)</span>
            </Empty>
          )}
        </aside>
      </div>
    </div>
  );
}

function clampLevel(v: string, dflt: string): string | undefined {
  if (v === "") return undefined;
  const n = Math.max(0, Math.min(30, Math.round(Number(v))));
  return Number.isFinite(n) && String(n) !== dflt ? String(n) : undefined;
}

function Select(props: {
  label: string;
  testid: string;
  value?: string;
  options: [string, string][];
  onChange: (v: string | undefined) => void;
  allLabel?: string;
}) {
  return (
    <label>
      {props.label}
      <select
        data-testid={props.testid}
        value={props.value ?? ""}
        onChange={(e) => props.onChange(e.target.value || undefined)}
      >
        <option value="">{props.allLabel ?? "All"}</option>
        {props.options.map(([v, l]) => (
          <option key={v} value={v}>
            {l}
          </option>
        ))}
        {props.value && !props.options.some(([v]) => v === props.value) ? (
          <option value={props.value}>{props.value}</option>
        ) : null}
      </select>
    </label>
  );
}

function Summary({ id }: { id: string }) {
  const s = useQuery(["session", id], (sig) => api.session(id, sig));
  if (s.state === "loading") return <Loading what="summary" />;
  if (s.state === "error") return <ErrorBox error={s.error} what="the session summary" retry={s.refetch} />;
  const d = s.data;
  const replayParams = { view: "replay", session: d.session_id };
  return (
    <div data-testid="summary-loaded">
      <h2 className="mono small-title" title={d.session_id}>
        {d.session_id}
      </h2>
      <p className="muted">
        {shortOperator(d.operator_id, d.operator_display)} · level {d.mastery_level ?? "—"} · {d.scenario} (
        {d.difficulty})
      </p>
      <dl className="kv">
        <dt>segment_count</dt>
        <dd data-testid="sum-segment-count">{d.segment_count}</dd>
        <dt>sample_count</dt>
        <dd data-testid="sum-sample-count">{d.sample_count}</dd>
        <dt>score_final</dt>
        <dd data-testid="sum-score">{fmtNum(d.score_final, 2)}</dd>
        <dt>anomaly_count</dt>
        <dd data-testid="sum-anomaly-count">{d.anomaly_count}</dd>
        <dt>max_severity</dt>
        <dd data-testid="sum-max-severity">
          <SeverityBadge severity={d.max_severity} />
        </dd>
      </dl>
      <h3>Segments</h3>
      <ul className="seglist">
        {d.segments.map((g) => (
          <li key={g.segment_id}>
            <span className="seg-label">{g.label}</span>
            <span className="muted">
              {g.sample_count} samples · {g.anomaly_count} anomalies · {fmtNum(g.duration, 3)}s
            </span>
            {g.anomaly_count ? <SeverityBadge severity={g.max_severity} /> : null}
          </li>
        ))}
      </ul>
      <div className="actions">
        <a
          className="button primary"
          href={href(replayParams)}
          onClick={(e) => onLinkClick(e, replayParams)}
          data-testid="open-replay"
        >
          Open replay
        </a>
        <a
          className="button"
          href={href({ ...replayParams, view: "curriculum" })}
          onClick={(e) => onLinkClick(e, { ...replayParams, view: "curriculum" })}
          data-testid="open-curriculum"
        >
          Curriculum
        </a>
        <a
          className="button"
          href={api.exportUrl(d.session_id)}
          download={`${d.session_id}.json`}
          data-testid="export-json"
        >
          Export JSON
        </a>
      </div>
    </div>
  );
}
