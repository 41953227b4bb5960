import { api, shortOperator } from "../api.js";
import { useQuery } from "../query.js";
import { href, onLinkClick } from "../route.js";
import { Empty, ErrorBox, fmtNum, Loading, SeverityBadge } from "../util.js";

/** The panel beside the list: the selected session's counts and segments, and links to its replay. */
export function SessionSummary({ selected }: { selected?: string }) {
  return (
    <aside className="summary" aria-label="Session summary" data-testid="summary">
      {selected ? (
        <Summary id={selected} />
      ) : (
        <Empty testid="summary-empty">
          Select a session to see its summary. <span className="muted">(↑/↓ move, Enter opens)</span>
        </Empty>
      )}
    </aside>
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
