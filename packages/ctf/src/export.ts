import { createHash } from "node:crypto";
import { type StepNode, StepTree } from "./step-tree.js";
import { type CorridorStatus, type CTFEvent, type HeaderEvent, Q_METRICS, type QMetrics } from "./types.js";

/** A trace to export: a display name and its events in file order (already validated). */
export interface ExportInput {
  name: string;
  events: CTFEvent[];
}

interface Replayed {
  header: HeaderEvent;
  /** Step node of each step event, by the event's index in `events`. */
  nodeAt: Map<number, StepNode>;
  /** For each rewind event index, the head it left and the node it returned to. */
  rewindTarget: Map<number, StepNode>;
  rewindFrom: Map<number, StepNode>;
  nodes: StepNode[];
}

/** Replays the events (without metrics) to learn which steps a rewind invalidated and what each id meant at the time. */
function replay(events: CTFEvent[]): Replayed {
  const header = events[0];
  if (header?.type !== "header") throw new Error("export: the first event must be the header");
  const st = new StepTree(header.corridor_spec, header.task, { trackMetrics: false });
  const nodeAt = new Map<number, StepNode>();
  const rewindTarget = new Map<number, StepNode>();
  const rewindFrom = new Map<number, StepNode>();
  events.forEach((e, i) => {
    if (e.type === "step") {
      const parent = e.parent_step_id === null ? null : (st.byId.get(e.parent_step_id) ?? null);
      nodeAt.set(i, st.addStep(e, i + 1, parent));
    } else if (e.type === "rewind") {
      const to = st.byId.get(e.to_step);
      if (to && st.head) {
        rewindTarget.set(i, to);
        rewindFrom.set(i, st.head);
        st.rewind(to);
      }
    } else if (e.type === "q") {
      const n = st.byId.get(e.step_id);
      if (n) n.q = e;
    } else if (e.type === "status") {
      const n = st.byId.get(e.step_id);
      if (n) {
        n.status = e.corridor_status;
        n.violations = e.violations;
      }
    }
  });
  return { header, nodeAt, rewindTarget, rewindFrom, nodes: st.nodes };
}

const stepStart = (n: StepNode) => n.event.timestamp - n.event.latency_ms / 1000;

// ---------------------------------------------------------------------------------------------
// Chrome Trace Event Format (chrome://tracing, ui.perfetto.dev)

export interface ChromeTraceEvent {
  name: string;
  ph: "M" | "X" | "C" | "i" | "s" | "f";
  pid: number;
  tid?: number;
  ts?: number;
  dur?: number;
  cat?: string;
  s?: "g" | "p" | "t";
  id?: number;
  bp?: "e";
  args?: Record<string, unknown>;
}

const TID_LINEAGE = 1;
const TID_REWOUND = 2;
/** Flow ids must be unique across processes in one file. */
const FLOW_ID_STRIDE = 10_000_000;

/**
 * One process per trace: steps kept by the final lineage on thread 1, steps a rewind invalidated on
 * thread 2 ("rewound"), each Q-metric a counter track, status changes / rewinds / end as instants,
 * and parent → child flow arrows for lineage. Times are µs from the trace's first instant, so two
 * runs exported together start side by side at 0.
 */
export function toChromeTrace(inputs: ExportInput[]): {
  traceEvents: ChromeTraceEvent[];
  displayTimeUnit: "ms";
  otherData: Record<string, string>;
} {
  const out: ChromeTraceEvent[] = [];
  inputs.forEach((input, idx) => {
    const pid = idx + 1;
    const r = replay(input.events);
    let t0 = r.header.timestamp;
    for (const n of r.nodes) t0 = Math.min(t0, stepStart(n));
    const us = (t: number) => Math.round((t - t0) * 1e9) / 1e3; // µs with ns resolution, no float noise
    out.push({ name: "process_name", ph: "M", pid, tid: 0, args: { name: `${r.header.task_id} — ${input.name}` } });
    out.push({ name: "process_sort_index", ph: "M", pid, tid: 0, args: { sort_index: idx } });
    out.push({ name: "thread_name", ph: "M", pid, tid: TID_LINEAGE, args: { name: "steps (kept lineage)" } });
    out.push({ name: "thread_name", ph: "M", pid, tid: TID_REWOUND, args: { name: "steps (rewound)" } });
    const tidOf = (n: StepNode) => (n.valid ? TID_LINEAGE : TID_REWOUND);
    let now = r.header.timestamp;
    let lastStatus: CorridorStatus | null = null;
    input.events.forEach((e, i) => {
      switch (e.type) {
        case "step": {
          const n = r.nodeAt.get(i)!;
          now = e.timestamp;
          out.push({
            name: `${e.tool ?? "step"} #${e.step_id}`,
            cat: "step",
            ph: "X",
            pid,
            tid: tidOf(n),
            ts: us(stepStart(n)),
            dur: Math.round(e.latency_ms * 1e3) / 1e3,
            args: {
              step_id: e.step_id,
              parent_step_id: e.parent_step_id,
              tool: e.tool ?? null,
              action: e.action,
              observation: e.observation,
            },
          });
          if (n.parent) {
            const id = pid * FLOW_ID_STRIDE + n.ord;
            const common = { name: "lineage", cat: "lineage", pid, id };
            out.push({ ...common, ph: "s", tid: tidOf(n.parent), ts: us(stepStart(n.parent)) });
            out.push({ ...common, ph: "f", bp: "e", tid: tidOf(n), ts: us(stepStart(n)) });
          }
          break;
        }
        case "q":
          for (const m of Q_METRICS) out.push({ name: m, cat: "q", ph: "C", pid, ts: us(now), args: { value: e[m] } });
          break;
        case "status":
          if (e.corridor_status !== lastStatus) {
            lastStatus = e.corridor_status;
            out.push({
              name: `status: ${e.corridor_status}`,
              cat: "status",
              ph: "i",
              s: "p",
              pid,
              tid: TID_LINEAGE,
              ts: us(now),
              args: { step_id: e.step_id, violations: e.violations },
            });
          }
          break;
        case "rewind":
          now = e.timestamp;
          out.push({
            name: `rewind ${e.from_step} → ${e.to_step}`,
            cat: "rewind",
            ph: "i",
            s: "p",
            pid,
            tid: TID_LINEAGE,
            ts: us(now),
            args: { from_step: e.from_step, to_step: e.to_step },
          });
          break;
        case "footer":
          now = e.timestamp;
          out.push({
            name: `end: ${e.final_status}`,
            cat: "status",
            ph: "i",
            s: "p",
            pid,
            tid: TID_LINEAGE,
            ts: us(now),
            args: { final_status: e.final_status },
          });
          break;
        default:
          break;
      }
    });
  });
  return { traceEvents: out, displayTimeUnit: "ms", otherData: { generator: "rtt ctf export", ctf_version: "0.1" } };
}

// ---------------------------------------------------------------------------------------------
// OTLP/JSON (OpenTelemetry protocol, JSON encoding; GenAI semantic conventions for agent spans)

type AnyValue =
  | { stringValue: string }
  | { intValue: string }
  | { doubleValue: number }
  | { boolValue: boolean }
  | { arrayValue: { values: AnyValue[] } };
export interface KeyValue {
  key: string;
  value: AnyValue;
}
export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: KeyValue[];
  events?: Array<{ timeUnixNano: string; name: string; attributes: KeyValue[] }>;
  links?: Array<{ traceId: string; spanId: string; attributes: KeyValue[] }>;
  status?: { code: number; message?: string };
}

const SPAN_KIND_INTERNAL = 1;
const STATUS_UNSET = 0;
const STATUS_ERROR = 2;

const str = (key: string, v: string): KeyValue => ({ key, value: { stringValue: v } });
const int = (key: string, v: number): KeyValue => ({ key, value: { intValue: String(Math.trunc(v)) } });
const dbl = (key: string, v: number): KeyValue => ({ key, value: { doubleValue: v } });
const bool = (key: string, v: boolean): KeyValue => ({ key, value: { boolValue: v } });
const strs = (key: string, v: string[]): KeyValue => ({
  key,
  value: { arrayValue: { values: v.map((s) => ({ stringValue: s })) } },
});

/** Seconds → decimal nanoseconds, via integer µs so float noise never reaches the digits. */
export function toUnixNano(seconds: number): string {
  return (BigInt(Math.round(seconds * 1e6)) * 1000n).toString();
}

const hex = (s: string, chars: number) => createHash("sha256").update(s).digest("hex").slice(0, chars);

function qAttributes(q: QMetrics | undefined): KeyValue[] {
  if (!q) return [];
  return Q_METRICS.map((m) => (m === "branching_pressure" ? int(`corridor.${m}`, q[m]) : dbl(`corridor.${m}`, q[m])));
}

/**
 * One `invoke_agent` root span per trace; each step an INTERNAL child span carrying
 * `corridor.step.index` and its Q-metrics as `corridor.*` attributes; a step that used a tool gets an
 * `execute_tool {tool}` child span (GenAI semconv attributes); a rewind is a `corridor.rewind` event on
 * the rewound step's span plus a link to the step it returned to. Ids are derived from the trace
 * content (sha256), so the same file always exports the same bytes.
 */
export function toOtlp(inputs: ExportInput[]): { resourceSpans: unknown[] } {
  const resourceSpans = inputs.map((input, idx) => {
    const r = replay(input.events);
    const h = r.header;
    const traceId = hex(`ctf|${h.task_id}|${h.timestamp}|${idx}`, 32);
    const spanId = (what: string) => hex(`${traceId}|${what}`, 16);
    const rootId = spanId("root");
    const footer = input.events.findLast((e) => e.type === "footer");
    let end = h.timestamp;
    let begin = h.timestamp;
    for (const e of input.events) if ("timestamp" in e) end = Math.max(end, e.timestamp);
    for (const n of r.nodes) begin = Math.min(begin, stepStart(n));
    const finalStatus = footer?.type === "footer" ? footer.final_status : (r.nodes.at(-1)?.status ?? "stable");
    const bad = finalStatus === "critical" || finalStatus === "halted";
    const root: OtlpSpan = {
      traceId,
      spanId: rootId,
      name: "invoke_agent",
      kind: SPAN_KIND_INTERNAL,
      startTimeUnixNano: toUnixNano(begin),
      endTimeUnixNano: toUnixNano(end),
      attributes: [
        str("gen_ai.operation.name", "invoke_agent"),
        str("gen_ai.agent.name", h.task_id),
        str("corridor.task_id", h.task_id),
        str("corridor.final_status", finalStatus),
        int("corridor.steps", r.nodes.length),
        ...Object.entries(h.corridor_spec).map(([k, v]) => dbl(`corridor.spec.${k}`, Number(v))),
        ...(h.task !== undefined ? [str("corridor.task", h.task)] : []),
      ],
      status: bad ? { code: STATUS_ERROR, message: `corridor ${finalStatus}` } : { code: STATUS_UNSET },
    };
    const spans: OtlpSpan[] = [root];
    const stepSpan = new Map<StepNode, OtlpSpan>();
    input.events.forEach((e, i) => {
      if (e.type === "step") {
        const n = r.nodeAt.get(i)!;
        const start = toUnixNano(stepStart(n));
        const stop = toUnixNano(e.timestamp);
        const span: OtlpSpan = {
          traceId,
          spanId: spanId(`step|${n.ord}`),
          parentSpanId: rootId,
          name: `corridor.step ${e.step_id}`,
          kind: SPAN_KIND_INTERNAL,
          startTimeUnixNano: start,
          endTimeUnixNano: stop,
          attributes: [
            int("corridor.step.index", e.step_id),
            ...(e.parent_step_id !== null ? [int("corridor.step.parent_index", e.parent_step_id)] : []),
            str("corridor.step.action", e.action),
            str("corridor.step.observation", e.observation),
            dbl("corridor.step.latency_ms", e.latency_ms),
            bool("corridor.step.rewound", !n.valid),
            ...qAttributes(n.q),
            ...(n.status ? [str("corridor.status", n.status), strs("corridor.violations", n.violations ?? [])] : []),
          ],
          status: { code: STATUS_UNSET },
        };
        stepSpan.set(n, span);
        spans.push(span);
        if (e.tool) {
          spans.push({
            traceId,
            spanId: spanId(`tool|${n.ord}`),
            parentSpanId: span.spanId,
            name: `execute_tool ${e.tool}`,
            kind: SPAN_KIND_INTERNAL,
            startTimeUnixNano: start,
            endTimeUnixNano: stop,
            attributes: [
              str("gen_ai.operation.name", "execute_tool"),
              str("gen_ai.tool.name", e.tool),
              str("gen_ai.tool.call.id", `call_${n.ord}`),
            ],
            status: { code: STATUS_UNSET },
          });
        }
      } else if (e.type === "rewind") {
        const to = r.rewindTarget.get(i);
        const from = r.rewindFrom.get(i);
        const span = from && stepSpan.get(from);
        if (!span || !to) return;
        span.events ??= [];
        span.links ??= [];
        span.events.push({
          timeUnixNano: toUnixNano(e.timestamp),
          name: "corridor.rewind",
          attributes: [int("corridor.rewind.from_step", e.from_step), int("corridor.rewind.to_step", e.to_step)],
        });
        span.links.push({
          traceId,
          spanId: spanId(`step|${to.ord}`),
          attributes: [str("corridor.link.type", "rewind_to")],
        });
      }
    });
    return {
      resource: { attributes: [str("service.name", "rtt-ctf"), str("corridor.source", input.name)] },
      scopeSpans: [{ scope: { name: "@rtt/ctf", version: "0.1.0" }, spans }],
    };
  });
  return { resourceSpans };
}
