import {
  type CorridorSpec,
  type CTFIssue,
  type HeaderEvent,
  parseCTFText,
  Q_METRICS,
  type QMetricName,
  type QMetrics,
} from "@rtt/ctf";

/**
 * What a live producer sends, line by line, ready for the live append: a CTF event to check and store, or why a
 * line is not one. Shared by `POST /ctf/:id/events` (its body) and the live WebSocket (each text frame).
 */
export interface Candidate {
  /** 1-based line in the request body or the frame. */
  bodyLine: number;
  /** The event to validate, with its stored text; absent when `issue` says why the line is none. */
  event?: unknown;
  raw?: string;
  issue?: CTFIssue;
  /**
   * The seed's update is stored as q and status events: an issue the validator finds in one of them names the
   * update's own field (`/q/semantic_drift`, `/status`, `/step`), not the stored event's.
   */
  field?: (eventField: string) => string;
}

const THRESHOLD: Record<QMetricName, keyof CorridorSpec> = {
  semantic_drift: "max_semantic_drift",
  tool_entropy: "max_tool_entropy",
  latency_drift: "max_latency_drift",
  branching_pressure: "max_branching_pressure",
  retry_ratio: "max_retry_ratio",
};

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/**
 * The seed's live update (`stream_trace_update`): `{"step": N, "q": {…five metrics…}, "status": "warning"}`, an
 * object with a `step` and no `type`. CTF events always have a `type`.
 */
export const isLiveUpdate = (v: unknown): v is Record<string, unknown> => isObject(v) && !("type" in v) && "step" in v;

const updateIssue = (line: number, field: string, message: string): CTFIssue => ({
  line,
  field,
  code: "live_update",
  message,
  severity: "error",
});

/**
 * The q and status events a seed update stands for, in that order (`q` null or absent: only the status; `status`
 * absent: only the q). `violations` may be given; otherwise they are the metrics of `q` (or of the step's known q)
 * over the header's thresholds, in q_metrics.md order, plus `max_steps` for `halted` — what encoding_rules.md §6
 * defines them to be. Everything else is left to the validator, which checks the events in context.
 */
export function updateCandidates(
  u: Record<string, unknown>,
  bodyLine: number,
  header: HeaderEvent | null,
  knownQ: (step: number) => QMetrics | undefined,
): Candidate[] {
  const step = u.step;
  if (typeof step !== "number" || !Number.isInteger(step) || step < 0)
    return [
      {
        bodyLine,
        issue: updateIssue(bodyLine, "/step", "step must be the step_id of a written step (an integer >= 0)"),
      },
    ];
  const q = u.q ?? null;
  const status = u.status ?? null;
  if (q !== null && !isObject(q))
    return [{ bodyLine, issue: updateIssue(bodyLine, "/q", "q must be an object of the five Q-metrics, or null") }];
  if (q === null && status === null)
    return [{ bodyLine, issue: updateIssue(bodyLine, "", "an update carries q, status or both") }];
  const out: Candidate[] = [];
  if (q !== null) {
    // type and step_id first, as every writer puts them; the metrics in q_metrics.md order, then any extra fields.
    const { type: _t, step_id: _s, ...rest } = q;
    const event: Record<string, unknown> = { type: "q", step_id: step };
    for (const m of Q_METRICS) if (m in rest) event[m] = rest[m];
    for (const [k, v] of Object.entries(rest)) if (!(k in event)) event[k] = v;
    out.push({ bodyLine, event, raw: JSON.stringify(event), field: (f) => (f === "/step_id" ? "/step" : `/q${f}`) });
  }
  if (status !== null) {
    let violations = u.violations;
    if (violations === undefined) {
      const metrics = (q as Record<string, unknown> | null) ?? knownQ(step) ?? null;
      const derived: string[] = [];
      const spec = header?.corridor_spec;
      if (metrics && spec) {
        for (const m of Q_METRICS) {
          const x = metrics[m];
          if (typeof x === "number" && x > spec[THRESHOLD[m]]) derived.push(m);
        }
      }
      if (status === "halted") derived.push("max_steps");
      violations = derived;
    }
    const event = { type: "status", step_id: step, corridor_status: status, violations };
    out.push({
      bodyLine,
      event,
      raw: JSON.stringify(event),
      field: (f) => (f === "/step_id" ? "/step" : f === "/corridor_status" ? "/status" : f),
    });
  }
  return out;
}

/**
 * Lines of NDJSON text as candidates: each a CTF event (stored as sent) or the seed's update (expanded by
 * expandUpdate when the append reaches it). `terminated` is false for a WebSocket frame, whose last line needs no
 * newline.
 */
export function textCandidates(text: string, terminated: boolean): Candidate[] {
  const out: Candidate[] = [];
  parseCTFText(terminated ? text : `${text}\n`, (l) => {
    if (l.issue) out.push({ bodyLine: l.line, issue: l.issue });
    else out.push({ bodyLine: l.line, event: l.value, raw: l.raw });
  });
  return out;
}

/** A candidate as the events to append: a seed update as its q and status events, anything else as it is. */
export function expandUpdate(
  c: Candidate,
  header: () => HeaderEvent | null,
  knownQ: (step: number) => QMetrics | undefined,
): Candidate[] {
  return isLiveUpdate(c.event) ? updateCandidates(c.event, c.bodyLine, header(), knownQ) : [c];
}
