import {
  type CorridorSpec,
  type CorridorStatus,
  type CTFIssue,
  type FooterEvent,
  type HeaderEvent,
  type LoadedTrace,
  loadTraceText,
  Q_METRICS,
  type QMetricName,
  type StepNode,
} from "@rtt/ctf";
import { httpError, invalid, q } from "@rtt/http";
import type { FastifyInstance } from "fastify";
import { ID_PATTERN, type TraceListing, type TraceStore } from "./store.js";

// Read endpoints of the trace viewer in the web UI (the traces list, the trace view and the step debugger):
//   GET /ctf/overview              every trace with its rewinds, violations and live/complete state
//   GET /ctf/:id/view              a trace's facts: header, footer, counts, tools, rewinds (with step positions)
//   GET /ctf/:id/columns           per-step lanes (Q-metrics, latency, status, tool, validity), decimated to
//                                  max_points (min/max per bucket) and the semantic-drift heatmap (tool × bucket)
//   GET /ctf/:id/steps             steps in file order [from, to) with their Q values and crossed thresholds
//   GET /ctf/:id/find              the next (or previous) step matching breakpoint conditions, optionally on the
//                                  final lineage only
// x is a step's position among the trace's step events ("ord", 0-based, file order): steps a rewind abandoned
// keep their place, so a lane shows the corridor's evolution and a rewind marker sits where the rewind happened.
// The replayed trace is kept per id (a few, least recently used out) until its file changes.

export const STATUS_CODES: Record<CorridorStatus, number> = { stable: 0, warning: 1, critical: 2, halted: 3 };
const STATUS_NAMES: CorridorStatus[] = ["stable", "warning", "critical", "halted"];
const SPEC_KEY: Record<QMetricName, keyof CorridorSpec> = {
  semantic_drift: "max_semantic_drift",
  tool_entropy: "max_tool_entropy",
  latency_drift: "max_latency_drift",
  branching_pressure: "max_branching_pressure",
  retry_ratio: "max_retry_ratio",
};
const MODEL_CACHE = 4;
const MAX_STEPS_PAGE = 5000;
const MAX_REWINDS = 10_000;
const HEAT_BUCKETS = 160;
const TEXT_LIMIT = 4000;

/** A trace replayed once into typed per-step columns. */
interface TraceModel {
  size: number;
  mtimeMs: number;
  trace: LoadedTrace;
  nodes: StepNode[];
  /** Q-metric columns, NaN where the step has no q. */
  metrics: Record<QMetricName, Float64Array>;
  latency: Float64Array;
  /** STATUS_CODES, 255 where the step has no status. */
  status: Uint8Array;
  valid: Uint8Array;
  lineage: Uint8Array;
  /** Index into `tools`, -1 without a tool. */
  tool: Int32Array;
  tools: string[];
  /** Each rewind with `at`: the number of steps written before it (the x of its marker). */
  rewinds: Array<LoadedTrace["rewinds"][number] & { at: number; from_ord: number | null; to_ord: number | null }>;
}

// The per-step columns below are read by step ord: every index is a loop bound inside [0, steps) or [start, end)
// (clamped to the step count), a bisection inside [0, length), or a stored index into `tools`; those reads are
// asserted with `!` (hot paths: no per-step checks).

const stepOrdBefore = (nodes: StepNode[], line: number): number => {
  let lo = 0;
  let hi = nodes.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (nodes[mid]!.line < line) lo = mid + 1;
    else hi = mid;
  }
  return lo;
};

function buildModel(trace: LoadedTrace, size: number, mtimeMs: number): TraceModel {
  const nodes = trace.steps;
  const n = nodes.length;
  const metrics = Object.fromEntries(Q_METRICS.map((m) => [m, new Float64Array(n)])) as TraceModel["metrics"];
  const latency = new Float64Array(n);
  const status = new Uint8Array(n);
  const valid = new Uint8Array(n);
  const lineage = new Uint8Array(n);
  const tool = new Int32Array(n);
  const toolIndex = new Map<string, number>();
  for (const [i, s] of nodes.entries()) {
    for (const m of Q_METRICS) metrics[m][i] = s.q ? s.q[m] : Number.NaN;
    latency[i] = s.event.latency_ms;
    status[i] = s.status ? STATUS_CODES[s.status] : 255;
    valid[i] = s.valid ? 1 : 0;
    lineage[i] = s.onLineage ? 1 : 0;
    const t = s.event.tool;
    if (t) {
      let k = toolIndex.get(t);
      if (k === undefined) {
        k = toolIndex.size;
        toolIndex.set(t, k);
      }
      tool[i] = k;
    } else tool[i] = -1;
  }
  // A step id may be reused after a rewind: the ord of an id is the latest step with it written before the rewind.
  const rewinds = trace.rewinds.map((r) => {
    const at = stepOrdBefore(nodes, r.line);
    const ordOf = (id: number): number | null => {
      for (let i = at - 1; i >= 0; i--) if (nodes[i]!.id === id) return i;
      return null;
    };
    return { ...r, at, from_ord: ordOf(r.from_step), to_ord: ordOf(r.to_step) };
  });
  return {
    size,
    mtimeMs,
    trace,
    nodes,
    metrics,
    latency,
    status,
    valid,
    lineage,
    tool,
    tools: [...toolIndex.keys()],
    rewinds,
  };
}

/** Thresholds a step's q crossed (metric names), from the header's corridor_spec. */
function crossed(spec: CorridorSpec | undefined, qv: StepNode["q"]): QMetricName[] {
  if (!spec || !qv) return [];
  return Q_METRICS.filter((m) => qv[m] > spec[SPEC_KEY[m]]);
}

/** One row of GET /ctf/overview: the listing plus what the traces list shows and filters on. */
export interface TraceOverviewRow extends TraceListing {
  rewinds: number;
  /** Violation counts over the trace's status events. */
  violations: Record<string, number>;
  /** Steps on the final lineage. */
  lineage_steps: number;
  /** Still being written (no footer). */
  live: boolean;
}

/** One step of GET /ctf/:id/steps. */
export interface TraceStepRow {
  /** Position among the trace's step events (0-based, file order): the x of every lane. */
  ord: number;
  step_id: number;
  parent_step_id: number | null;
  parent_ord: number | null;
  timestamp: number;
  action: string;
  observation: string;
  tool: string | null;
  latency_ms: number;
  depth: number;
  /** False once a rewind abandoned the step. */
  valid: boolean;
  on_lineage: boolean;
  retry: boolean;
  q: Record<QMetricName, number> | null;
  corridor_status: CorridorStatus | null;
  violations: string[];
  /** The Q-metrics over the header's corridor_spec thresholds. */
  crossed: QMetricName[];
}

/** GET /ctf/:id/steps. */
export interface TraceStepsPage {
  from: number;
  to: number;
  total: number;
  truncated: boolean;
  steps: TraceStepRow[];
}

/** A rewind of GET /ctf/:id/view: `at` is the number of steps written before it (its marker's x). */
export interface TraceRewindMark {
  from_step: number;
  to_step: number;
  timestamp: number;
  at: number;
  from_ord: number | null;
  to_ord: number | null;
}

/** GET /ctf/:id/view. */
export interface TraceViewFacts {
  id: string;
  header: HeaderEvent | null;
  footer: FooterEvent | null;
  complete: boolean;
  final_status: CorridorStatus;
  events: number;
  steps: number;
  lineage_steps: number;
  valid_steps: number;
  first_timestamp: number | null;
  last_timestamp: number | null;
  tools: Array<{ name: string; steps: number }>;
  rewind_count: number;
  /** The first 10,000 rewinds. */
  rewinds: TraceRewindMark[];
  violation_counts: Record<string, number>;
  status_changes: number;
  issues: CTFIssue[];
}

/**
 * GET /ctf/:id/columns: one entry per plotted step, null where a step has none (no q, no status, no tool).
 * `status` is 0 stable, 1 warning, 2 critical, 3 halted; `tool` an index into the view's `tools`.
 */
export type TraceColumns = {
  id: string;
  n: number;
  n_total: number;
  /**
   * Events in the trace these columns were read from: a live reader joins the live socket's frames from this seq on
   * (docs/api/ctf.md).
   */
  events: number;
  decimated: boolean;
  from: number;
  to: number;
  ord: number[];
  latency_ms: number[];
  status: Array<number | null>;
  tool: Array<number | null>;
  valid: number[];
  lineage: number[];
  /** Mean semantic drift per tool (rows; the first is "no tool") per bucket of steps. */
  heat: { buckets: number; from: number; to: number; rows: Array<string | null>; values: Array<Array<number | null>> };
} & Record<QMetricName, Array<number | null>>;

/** GET /ctf/:id/find: the matching step's ord (null: none in that direction) and the condition that matched. */
export interface TraceFindResult {
  ord: number | null;
  hit: string | null;
}

export interface CtfViewDeps {
  store: TraceStore;
  /** The stored text of a trace (404 when there is none). */
  readStored: (id: string) => Promise<string>;
}

/** A breakpoint condition of GET /ctf/:id/find. */
type Cond =
  | { kind: "tool"; tool: string }
  | { kind: "status"; code: number }
  | { kind: "metric"; metric: QMetricName | "latency_ms"; op: ">" | "<"; value: number }
  | { kind: "rewind" };

/**
 * Conditions separated by `;`, any of which stops: `tool=search`, `status=critical`, `semantic_drift>0.5`,
 * `latency_ms>1000`, `rewind` (a step right after a rewind). A 400 names a clause that is none of these.
 */
export function parseConditions(when: string): Cond[] {
  const out: Cond[] = [];
  for (const raw of when.split(";")) {
    const c = raw.trim();
    if (!c) continue;
    const tool = /^tool\s*=\s*(.+)$/.exec(c);
    const status = /^status\s*=\s*(stable|warning|critical|halted)$/.exec(c);
    const cmp = /^([a-z_]+)\s*([<>])\s*(-?\d+(?:\.\d+)?(?:e-?\d+)?)$/i.exec(c);
    // Every group of these patterns takes part in any match: the defaults are never used.
    if (tool) {
      const [, name = ""] = tool;
      out.push({ kind: "tool", tool: name.trim() });
    } else if (status) {
      const [, name = ""] = status;
      out.push({ kind: "status", code: STATUS_CODES[name as CorridorStatus] });
    } else if (cmp) {
      const [, name = "", op = "", value = ""] = cmp;
      const metric = name as QMetricName | "latency_ms";
      if (metric !== "latency_ms" && !(Q_METRICS as readonly string[]).includes(metric))
        throw invalid("querystring", [{ path: "when", message: `unknown metric ${JSON.stringify(name)}` }]);
      out.push({ kind: "metric", metric, op: op as ">" | "<", value: Number(value) });
    } else if (c === "rewind") out.push({ kind: "rewind" });
    else
      throw invalid("querystring", [
        {
          path: "when",
          message: `${JSON.stringify(c)} is not a condition (tool=NAME, status=NAME, METRIC>VALUE, rewind)`,
        },
      ]);
  }
  return out;
}

const arr = (a: ArrayLike<number>, pick: (i: number) => number, n: number): string => {
  const parts = new Array<string>(n);
  for (let j = 0; j < n; j++) {
    const v = a[pick(j)];
    parts[j] = Number.isFinite(v) ? String(v) : "null";
  }
  return `[${parts.join(",")}]`;
};

/** Registers the viewer's read routes in the CTF plugin's scope. */
export function ctfViewRoutes(app: FastifyInstance, deps: CtfViewDeps): void {
  const { store, readStored } = deps;
  const models = new Map<string, Promise<TraceModel>>();
  const overview = new Map<
    string,
    { size: number; mtimeMs: number; row: Omit<TraceOverviewRow, keyof TraceListing> }
  >();

  const model = async (id: string): Promise<TraceModel> => {
    let st: { size: number; mtimeMs: number };
    try {
      st = await store.stamp(id);
    } catch {
      throw httpError("RTT_ERR_NOT_FOUND", `no trace ${id}`);
    }
    const hit = models.get(id);
    if (hit) {
      const m = await hit.catch(() => null);
      if (m && m.size === st.size && m.mtimeMs === st.mtimeMs) {
        models.delete(id);
        models.set(id, hit);
        return m;
      }
    }
    const p = readStored(id).then((text) =>
      buildModel(
        loadTraceText(text, { recompute: false, skipSchema: true, requireFooter: false }),
        st.size,
        st.mtimeMs,
      ),
    );
    models.delete(id);
    models.set(id, p);
    p.catch(() => models.delete(id));
    while (models.size > MODEL_CACHE) models.delete(models.keys().next().value as string);
    return p;
  };

  const ID_PARAMS = q.object({ id: q.pattern(ID_PATTERN.source, "a trace id (letters, digits, . _ -, at most 128)") }, [
    "id",
  ]);

  app.get("/ctf/overview", async (): Promise<{ traces: TraceOverviewRow[] }> => {
    const traces: TraceOverviewRow[] = [];
    for (const l of await store.list()) {
      let extra: Omit<TraceOverviewRow, keyof TraceListing> = {
        rewinds: 0,
        violations: {},
        lineage_steps: 0,
        live: !l.complete && !l.error,
      };
      if (!l.error) {
        try {
          const st = await store.stamp(l.id);
          const hit = overview.get(l.id);
          if (hit && hit.size === st.size && hit.mtimeMs === st.mtimeMs) extra = hit.row;
          else {
            const t = await store.loadTrace(l.id, { recompute: false, skipSchema: true, requireFooter: false });
            extra = {
              rewinds: t.rewinds.length,
              violations: t.violationCounts,
              lineage_steps: t.lineage.length,
              live: t.footer === null,
            };
            overview.set(l.id, { size: st.size, mtimeMs: st.mtimeMs, row: extra });
          }
        } catch {
          /* listed with the store's facts only */
        }
      }
      traces.push({ ...l, ...extra });
    }
    return { traces };
  });

  app.get<{ Params: { id: string } }>(
    "/ctf/:id/view",
    { schema: { params: ID_PARAMS } },
    async (req): Promise<TraceViewFacts> => {
      const { id } = req.params;
      const m = await model(id);
      const t = m.trace;
      const toolCounts = new Uint32Array(m.tools.length);
      for (const k of m.tool) if (k >= 0) toolCounts[k]!++;
      const n = m.nodes.length;
      return {
        id,
        header: t.header as HeaderEvent | null,
        footer: t.footer as FooterEvent | null,
        complete: t.footer !== null,
        final_status: t.finalStatus,
        events: t.events,
        steps: n,
        lineage_steps: t.lineage.length,
        valid_steps: m.valid.reduce((a, v) => a + v, 0),
        first_timestamp: m.nodes[0]?.event.timestamp ?? null,
        last_timestamp: m.nodes[n - 1]?.event.timestamp ?? null,
        tools: m.tools.map((name, i) => ({ name, steps: toolCounts[i]! })),
        rewind_count: m.rewinds.length,
        rewinds: m.rewinds.slice(0, MAX_REWINDS).map((r) => ({
          from_step: r.from_step,
          to_step: r.to_step,
          timestamp: r.timestamp,
          at: r.at,
          from_ord: r.from_ord,
          to_ord: r.to_ord,
        })),
        violation_counts: t.violationCounts,
        status_changes: t.statusChanges.length,
        issues: t.issues.slice(0, 20) as CTFIssue[],
      };
    },
  );

  const COLUMNS_QUERY = q.object({
    from: q.integer(0, 1e9),
    to: q.integer(0, 1e9),
    max_points: q.integer(100, 2_000_000),
  });
  app.get<{ Params: { id: string }; Querystring: { from?: number; to?: number; max_points?: number } }>(
    "/ctf/:id/columns",
    { schema: { params: ID_PARAMS, querystring: COLUMNS_QUERY } },
    async (req, reply) => {
      const qy = req.query;
      if (qy.from !== undefined && qy.to !== undefined && qy.from > qy.to)
        throw invalid("querystring", [{ path: "from", message: "from is after to" }]);
      const m = await model(req.params.id);
      const total = m.nodes.length;
      const start = Math.min(qy.from ?? 0, total);
      const end = Math.max(start, Math.min(qy.to ?? total, total));
      const len = end - start;
      const budget = qy.max_points;
      const decimated = budget !== undefined && len > budget;
      const idx = decimated ? decimate(m, start, end, budget) : null;
      const count = idx ? idx.length : len;
      const pick = idx ? (j: number) => idx[j]! : (j: number) => start + j;
      const ordArr = new Float64Array(count);
      for (let j = 0; j < count; j++) ordArr[j] = pick(j);
      const id8 = (a: ArrayLike<number>) => arr(a, pick, count);
      const statusCol = new Float64Array(m.status.length);
      for (let i = start; i < end; i++) {
        const s = m.status[i]!;
        statusCol[i] = s === 255 ? Number.NaN : s;
      }
      const toolCol = new Float64Array(m.tool.length);
      for (let i = start; i < end; i++) {
        const t = m.tool[i]!;
        toolCol[i] = t < 0 ? Number.NaN : t;
      }
      const heat = heatmap(m, start, end);
      const parts = [
        `"id":${JSON.stringify(req.params.id)}`,
        `"n":${count}`,
        `"n_total":${len}`,
        `"events":${m.trace.events}`,
        `"decimated":${decimated}`,
        `"from":${start}`,
        `"to":${end}`,
        `"ord":${arr(ordArr, (j) => j, count)}`,
        ...Q_METRICS.map((q2) => `"${q2}":${id8(m.metrics[q2])}`),
        `"latency_ms":${id8(m.latency)}`,
        `"status":${id8(statusCol)}`,
        `"tool":${id8(toolCol)}`,
        `"valid":${id8(m.valid)}`,
        `"lineage":${id8(m.lineage)}`,
        `"heat":${JSON.stringify(heat)}`,
      ];
      return reply.type("application/json").send(`{${parts.join(",")}}`);
    },
  );

  const STEPS_QUERY = q.object({ from: q.integer(0, 1e9), to: q.integer(0, 1e9) });
  app.get<{ Params: { id: string }; Querystring: { from?: number; to?: number } }>(
    "/ctf/:id/steps",
    { schema: { params: ID_PARAMS, querystring: STEPS_QUERY } },
    async (req): Promise<TraceStepsPage> => {
      const m = await model(req.params.id);
      const total = m.nodes.length;
      const start = Math.min(req.query.from ?? 0, total);
      const end = Math.min(total, req.query.to ?? total, start + MAX_STEPS_PAGE);
      const spec = m.trace.header?.corridor_spec;
      const steps: TraceStepRow[] = [];
      for (let i = start; i < end; i++) {
        const s = m.nodes[i]!;
        const e = s.event;
        steps.push({
          ord: i,
          step_id: e.step_id,
          parent_step_id: e.parent_step_id,
          parent_ord: s.parent ? s.parent.ord : null,
          timestamp: e.timestamp,
          action: e.action.length > TEXT_LIMIT ? `${e.action.slice(0, TEXT_LIMIT)}…` : e.action,
          observation: e.observation.length > TEXT_LIMIT ? `${e.observation.slice(0, TEXT_LIMIT)}…` : e.observation,
          tool: e.tool ?? null,
          latency_ms: e.latency_ms,
          depth: s.depth,
          valid: s.valid,
          on_lineage: s.onLineage,
          retry: s.retry,
          q: s.q ? (Object.fromEntries(Q_METRICS.map((k) => [k, s.q![k]])) as Record<QMetricName, number>) : null,
          corridor_status: s.status ?? null,
          violations: s.violations ?? [],
          crossed: crossed(spec, s.q),
        });
      }
      return { from: start, to: end, total, truncated: end < Math.min(total, req.query.to ?? total), steps };
    },
  );

  const FIND_QUERY = q.object(
    {
      from: q.integer(-1, 1e9),
      dir: q.integer(-1, 1),
      lineage: q.boolean(),
      when: q.anyString(2000),
    },
    ["from"],
  );
  app.get<{ Params: { id: string }; Querystring: { from: number; dir?: number; lineage?: boolean; when?: string } }>(
    "/ctf/:id/find",
    { schema: { params: ID_PARAMS, querystring: FIND_QUERY } },
    async (req): Promise<TraceFindResult> => {
      const { from, lineage = false, when = "" } = req.query;
      const dir = req.query.dir === -1 ? -1 : 1;
      const conds = parseConditions(when);
      const m = await model(req.params.id);
      const n = m.nodes.length;
      const afterRewind = new Uint8Array(conds.some((c) => c.kind === "rewind") ? n : 0);
      for (const r of m.rewinds) if (r.at < afterRewind.length) afterRewind[r.at] = 1;
      const toolIdx = new Map(m.tools.map((t, i) => [t, i]));
      const match = (i: number): Cond | null => {
        for (const c of conds) {
          if (c.kind === "tool" && m.tool[i] === (toolIdx.get(c.tool) ?? -2)) return c;
          if (c.kind === "status" && m.status[i] === c.code) return c;
          if (c.kind === "rewind" && afterRewind[i]) return c;
          if (c.kind === "metric") {
            const v = c.metric === "latency_ms" ? m.latency[i]! : m.metrics[c.metric][i]!;
            if (c.op === ">" ? v > c.value : v < c.value) return c;
          }
        }
        return null;
      };
      for (let i = from + dir; i >= 0 && i < n; i += dir) {
        if (lineage && !m.lineage[i]) continue;
        if (conds.length === 0) return { ord: i, hit: null };
        const c = match(i);
        if (c) return { ord: i, hit: describe(c) };
      }
      return { ord: null, hit: null };
    },
  );
}

function describe(c: Cond): string {
  if (c.kind === "tool") return `tool=${c.tool}`;
  if (c.kind === "status") return `status=${STATUS_NAMES[c.code]}`;
  if (c.kind === "rewind") return "rewind";
  return `${c.metric}${c.op}${c.value}`;
}

const PER_BUCKET = 14;

/**
 * Indices in [start, end) to plot at most `maxPoints` points: buckets of equal step count, each keeping its first and
 * last step and the steps holding the min and max of the five Q-metrics and the latency, and its worst status
 * (first occurrence on ties). Sorted and distinct, so every lane keeps its exact extremes on one shared x axis.
 */
function decimate(m: TraceModel, start: number, end: number, maxPoints: number): Uint32Array {
  const len = end - start;
  const buckets = Math.max(1, Math.floor(maxPoints / PER_BUCKET));
  const out = new Uint32Array(buckets * PER_BUCKET);
  const pick = new Uint32Array(PER_BUCKET);
  const cols = [...Q_METRICS.map((k) => m.metrics[k]), m.latency];
  let k = 0;
  for (let b = 0; b < buckets; b++) {
    const lo = start + Math.floor((b * len) / buckets);
    const hi = start + Math.floor(((b + 1) * len) / buckets);
    let p = 0;
    pick[p++] = lo;
    pick[p++] = hi - 1;
    for (const c of cols) {
      let iMin = lo;
      let iMax = lo;
      let vMin = Number.POSITIVE_INFINITY;
      let vMax = Number.NEGATIVE_INFINITY;
      for (let i = lo; i < hi; i++) {
        const v = c[i]!;
        if (v < vMin) {
          vMin = v;
          iMin = i;
        }
        if (v > vMax) {
          vMax = v;
          iMax = i;
        }
      }
      pick[p++] = iMin;
      pick[p++] = iMax;
    }
    let worst = lo;
    let worstStatus = m.status[lo]!;
    for (let i = lo; i < hi; i++) {
      const s = m.status[i]!;
      if (s !== 255 && (worstStatus === 255 || s > worstStatus)) {
        worst = i;
        worstStatus = s;
      }
    }
    pick[p++] = worst;
    const used = pick.subarray(0, p).sort();
    for (let j = 0; j < used.length; j++) if (j === 0 || used[j] !== used[j - 1]) out[k++] = used[j]!;
  }
  return out.subarray(0, k);
}

/** Mean semantic drift per tool per bucket of steps in [start, end): rows are tools (index -1: no tool). */
function heatmap(m: TraceModel, start: number, end: number) {
  const len = end - start;
  const buckets = Math.max(0, Math.min(HEAT_BUCKETS, len));
  const rows = m.tools.length + 1;
  const sum = new Float64Array(rows * buckets);
  const cnt = new Uint32Array(rows * buckets);
  for (let i = start; i < end; i++) {
    const v = m.metrics.semantic_drift[i]!;
    if (!Number.isFinite(v)) continue;
    const b = Math.min(buckets - 1, Math.floor(((i - start) * buckets) / len));
    const r = m.tool[i]! + 1; // -1 (no tool) .. tools.length - 1
    sum[r * buckets + b]! += v;
    cnt[r * buckets + b]!++;
  }
  const values: Array<Array<number | null>> = [];
  for (let r = 0; r < rows; r++) {
    const row: Array<number | null> = [];
    for (let b = 0; b < buckets; b++) {
      const c = cnt[r * buckets + b];
      row.push(c ? Math.round((sum[r * buckets + b]! / c) * 1e4) / 1e4 : null);
    }
    values.push(row);
  }
  return { buckets, from: start, to: end, rows: [null, ...m.tools] as Array<string | null>, values };
}
