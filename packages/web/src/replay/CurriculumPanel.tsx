import type { CurriculumReport, SegmentInfo } from "../api.js";
import type { Query } from "../query.js";
import { ErrorBox, fmtT, Loading } from "../util.js";

/** The curriculum report: objectives with pass/fail and links to their evidence, and the drills recommended. */
export function CurriculumPanel(props: {
  report: Query<CurriculumReport>;
  segments: SegmentInfo[];
  onSeek: (segId: string, t: number) => void;
}) {
  const { report, segments, onSeek } = props;
  if (report.state === "loading") return <Loading what="the curriculum report" />;
  if (report.state === "error")
    return <ErrorBox error={report.error} what="the curriculum report" retry={report.refetch} />;
  const r = report.data;
  const label = (sid: string) => segments.find((s) => s.segment_id === sid)?.label ?? (sid === "*" ? "session" : sid);
  const passed = r.objectives.filter((o) => o.passed).length;
  return (
    <section className="curriculum" data-testid="curriculum" aria-label="Curriculum">
      <div>
        <h3>
          Objectives{" "}
          <span className="muted small" data-testid="objectives-summary">
            {passed}/{r.objectives.length} passed
          </span>
        </h3>
        {r.objectives.length === 0 ? (
          <p className="muted">This scenario defines no objectives.</p>
        ) : (
          <ol className="objectives">
            {r.objectives.map((o) => (
              <li key={o.id} data-testid="objective" data-passed={o.passed}>
                <span className={`verdict ${o.passed ? "pass" : "fail"}`}>{o.passed ? "✓ PASS" : "✗ FAIL"}</span>{" "}
                {o.text}
                {o.evidence.length ? (
                  <ul className="evidence">
                    {o.evidence.map((ev) => (
                      <li key={`${ev.segment_id}-${ev.t_from}-${ev.t_to}-${ev.note}`}>
                        <button
                          type="button"
                          className="linklike"
                          onClick={() => {
                            const sg =
                              segments.find((x) => x.segment_id === ev.segment_id) ??
                              segments.find((x) => ev.t_from >= x.t_min && ev.t_from <= x.t_max) ??
                              segments[0];
                            if (!sg) return;
                            onSeek(sg.segment_id, Math.min(Math.max(ev.t_from, sg.t_min), sg.t_max));
                          }}
                          data-testid="evidence-link"
                        >
                          {label(ev.segment_id)} {fmtT(ev.t_from)}–{fmtT(ev.t_to)}
                        </button>{" "}
                        <span className="muted">{ev.note}</span>
                      </li>
                    ))}
                  </ul>
                ) : null}
              </li>
            ))}
          </ol>
        )}
      </div>
      <div>
        <h3>Recommended drills</h3>
        {r.drills.length === 0 ? (
          <p className="muted" data-testid="no-drills">
            No drills needed: no anomalies called for remediation.
          </p>
        ) : (
          <ul className="drills" data-testid="drills">
            {groupDrills(r.drills).map((g) => (
              <li key={g.anomaly_type}>
                <span className="mono">{g.anomaly_type}</span>:{" "}
                {g.drills.map((d, i) => (
                  <span key={d}>
                    {i ? " · " : ""}
                    <strong data-testid="drill">{d.replace(/^"(.*)"$/, "$1")}</strong>
                  </span>
                ))}
                <div className="muted small">{g.reasons.join(" ")}</div>
              </li>
            ))}
          </ul>
        )}
      </div>
    </section>
  );
}

/** One entry per anomaly type: several anomalies of a type call for the same drills. */
function groupDrills(drills: CurriculumReport["drills"]) {
  const out: { anomaly_type: string; drills: string[]; reasons: string[] }[] = [];
  for (const d of drills) {
    let g = out.find((x) => x.anomaly_type === d.anomaly_type);
    if (!g) {
      g = { anomaly_type: d.anomaly_type, drills: [], reasons: [] };
      out.push(g);
    }
    if (!g.drills.includes(d.drill)) g.drills.push(d.drill);
    if (!g.reasons.includes(d.reason)) g.reasons.push(d.reason);
  }
  return out;
}
