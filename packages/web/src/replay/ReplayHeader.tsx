import { api, type SessionDetail, shortOperator } from "../api.js";
import { href, onLinkClick, type Params } from "../route.js";
import { fmtNum, fmtTime } from "../util.js";

/** The session's identity and score, with links back to the list, to the other mode and to the export. */
export function ReplayHeader({
  detail,
  params,
  curriculum,
}: {
  detail: SessionDetail;
  params: Params;
  curriculum: boolean;
}) {
  const id = detail.session_id;
  const backParams = { sel: id };
  const modeParams = { ...params, view: curriculum ? "replay" : "curriculum" };
  return (
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
  );
}
