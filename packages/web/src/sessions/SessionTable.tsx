import { useState } from "react";
import { api, type SessionRow, shortOperator } from "../api.js";
import { useQuery } from "../query.js";
import { navigate, type Params, update } from "../route.js";
import { Empty, ErrorBox, fmtNum, fmtTime, Loading, SeverityBadge } from "../util.js";
import { type SetFilter, toQuery } from "./filters.js";

type Page = { rows: SessionRow[]; next: string | null };
type Status = { state: "loading" | "ok" | "more" } | { state: "error"; error: Error };
type More = { of: Page; rows: SessionRow[]; next: string | null; status: Status | null };
const NO_ROWS: SessionRow[] = [];

/** The sessions the filters select: the first page (GET /replay/sessions), then pages added with "Load more". */
function useSessionList(params: Params) {
  const query = toQuery(params);
  // A relative time range is keyed by its name, so its moving `from` does not reload the list on every render.
  const key = JSON.stringify({ ...query, from: params.range && params.range !== "custom" ? params.range : query.from });
  const first = useQuery(["sessions", key], (s) => api.sessions(query, s));
  // Pages loaded with "Load more" and the state of the last such load, tied to the first page they follow.
  const [more, setMore] = useState<More | null>(null);
  const page = first.data;
  const extra = page && more?.of === page ? more : null;
  const rows = page ? (extra ? [...page.rows, ...extra.rows] : page.rows) : NO_ROWS;
  const next = extra ? extra.next : (page?.next ?? null);
  const status: Status =
    first.state === "error"
      ? { state: "error", error: first.error }
      : !page
        ? { state: "loading" }
        : (extra?.status ?? { state: "ok" });

  const loadMore = async () => {
    if (!next || !page) return;
    const of = page;
    // What is loaded so far after `of` (nothing when the filters have moved on since).
    const sofar = (old: More | null) => (old?.of === of ? old : { of, rows: NO_ROWS, next, status: null });
    setMore((old) => ({ ...sofar(old), status: { state: "more" } }));
    try {
      // Straight to the API: a "Load more" page is read once, so the query cache would only hold it.
      const r = await api.sessions({ ...query, cursor: next });
      setMore((old) => ({ of, rows: [...sofar(old).rows, ...r.rows], next: r.next, status: null }));
    } catch (error) {
      setMore((old) => ({ ...sofar(old), status: { state: "error", error: error as Error } }));
    }
  };
  return { rows, next, status, reload: first.refetch, loadMore };
}

/** The session list: sortable columns, keyboard selection, "Load more", and its loading, error and empty states. */
export function SessionTable({ params, filtered, set }: { params: Params; filtered: boolean; set: SetFilter }) {
  const { rows, next, status, reload, loadMore } = useSessionList(params);
  const selected = params.sel;
  const select = (id: string) => update({ sel: id }, { replace: true });
  const open = (id: string, view = "replay") => navigate({ view, session: id });

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

  // `i` is the index of the row (of this render) the key went to, so rows is not empty and i, j are in range.
  const onRowKey = (e: React.KeyboardEvent<HTMLTableRowElement>, i: number) => {
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      const j = Math.max(0, Math.min(rows.length - 1, i + (e.key === "ArrowDown" ? 1 : -1)));
      select(rows[j]!.session_id);
      (e.currentTarget.parentElement?.children[j] as HTMLElement | undefined)?.focus();
    } else if (e.key === "Enter") {
      open(rows[i]!.session_id);
    } else if (e.key === " ") {
      e.preventDefault();
      select(rows[i]!.session_id);
    }
  };

  return (
    <section className="sessions" aria-label="Sessions">
      {status.state === "loading" ? (
        <Loading what="sessions" />
      ) : status.state === "error" && rows.length === 0 ? (
        <ErrorBox error={status.error} what="sessions" retry={reload} />
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
  );
}
