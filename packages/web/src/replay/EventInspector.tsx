import type { Anomaly, Sample, SegmentInfo } from "../api.js";
import { fmtNum, SEVERITY_NAMES, SeverityBadge, sevColor } from "../util.js";
import type { CoreSample } from "./useInspectedSample.js";

/** What happened at the current t: its anomalies, the sample's C, D, Q, R and, when loaded, every field. */
export function EventInspector(props: {
  t: number;
  seg: SegmentInfo;
  anomalies: Anomaly[];
  sample: CoreSample | null;
  fullSample: Sample | null;
}) {
  const { t, seg, anomalies, sample, fullSample } = props;
  return (
    <section className="inspector" data-testid="inspector" aria-label="Event inspector">
      <h3>Event inspector</h3>
      <dl className="kv">
        <dt>current t</dt>
        <dd className="mono" data-testid="inspector-t">
          {fmtNum(sample?.t ?? t, 6)}
        </dd>
        <dt>segment</dt>
        <dd>{seg.label}</dd>
      </dl>
      {anomalies.length ? (
        anomalies.map((a) => (
          <div
            className="anomaly-card"
            key={`${a.t}-${a.type}`}
            style={{ borderColor: sevColor(a.severity) }}
            data-testid="inspector-anomaly"
          >
            <SeverityBadge severity={a.severity} /> <strong>{a.type}</strong>{" "}
            <span className="muted">
              severity {a.severity ?? "?"} ({SEVERITY_NAMES[a.severity ?? 0] ?? "unrated"})
            </span>
            {a.details ? <pre className="json">{JSON.stringify(a.details, null, 1)}</pre> : null}
          </div>
        ))
      ) : (
        <p className="muted small">No anomaly at this t.</p>
      )}
      {sample ? (
        <table className="mini" data-testid="inspector-sample">
          <tbody>
            {(["C", "D", "Q", "R"] as const).map((k) => (
              <tr key={k}>
                <th>{k}</th>
                <td className="mono" data-testid={`inspector-${k}`}>
                  {fmtNum(sample[k], 6)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {fullSample ? <ExtraFields sample={fullSample} /> : null}
    </section>
  );
}

function ExtraFields({ sample }: { sample: Sample }) {
  const extra = Object.entries(sample).filter(([k]) => !["t", "C", "D", "Q", "R"].includes(k));
  if (!extra.length) return null;
  return (
    <details className="extra">
      <summary>Full sample</summary>
      <pre className="json">{JSON.stringify(sample, null, 1)}</pre>
    </details>
  );
}
