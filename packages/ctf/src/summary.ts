import { parseCTFText, readCTFFile } from "./reader.js";
import type { LoadedTrace } from "./trace.js";
import { type CorridorSpec, type CTFEvent, type CTFIssue, Q_METRICS, type QMetricName } from "./types.js";
import { CTFValidator } from "./validator.js";

const THRESHOLD: Record<QMetricName, keyof CorridorSpec> = {
  semantic_drift: "max_semantic_drift",
  tool_entropy: "max_tool_entropy",
  latency_drift: "max_latency_drift",
  branching_pressure: "max_branching_pressure",
  retry_ratio: "max_retry_ratio",
};

export interface TraceSummary {
  task_id: string | null;
  steps: number;
  rewound_steps: number;
  lineage_length: number;
  rewinds: Array<{ from_step: number; to_step: number; line: number }>;
  tools: Record<string, number>;
  status_timeline: LoadedTrace["statusChanges"];
  violations: Record<string, number>;
  final_status: string;
  complete: boolean;
  metrics: Record<QMetricName, { threshold: number | null; min: number; max: number; last: number; series: number[] }>;
}

/** Facts for `rtt ctf summary`; `series` is each step's (last) q value in file order — the waveform. */
export function summarize(t: LoadedTrace): TraceSummary {
  const tools: Record<string, number> = {};
  let rewound = 0;
  for (const n of t.steps) {
    const tool = n.event.tool ?? "(none)";
    tools[tool] = (tools[tool] ?? 0) + 1;
    if (!n.valid) rewound++;
  }
  const metrics = {} as TraceSummary["metrics"];
  for (const m of Q_METRICS) {
    const series = t.steps.filter((n) => n.q).map((n) => n.q![m]);
    metrics[m] = {
      threshold: t.header ? t.header.corridor_spec[THRESHOLD[m]] : null,
      // reduce, not Math.min(...series): spreading a million values overflows the call stack.
      min: series.length ? series.reduce((a, b) => Math.min(a, b), Number.POSITIVE_INFINITY) : 0,
      max: series.length ? series.reduce((a, b) => Math.max(a, b), Number.NEGATIVE_INFINITY) : 0,
      last: t.lineage.at(-1)?.q?.[m] ?? 0,
      series,
    };
  }
  return {
    task_id: t.header?.task_id ?? null,
    steps: t.steps.length,
    rewound_steps: rewound,
    lineage_length: t.lineage.length,
    rewinds: t.rewinds.map((r) => ({ from_step: r.from_step, to_step: r.to_step, line: r.line })),
    tools,
    status_timeline: t.statusChanges,
    violations: t.violationCounts,
    final_status: t.finalStatus,
    complete: t.footer !== null,
    metrics,
  };
}

const BARS = "▁▂▃▄▅▆▇█";

/** A sparkline of `width` characters; each character shows the maximum of its bucket, scaled to `top`. */
export function sparkline(values: number[], top: number, width = 60): string {
  if (values.length === 0) return "";
  const buckets = Math.min(width, values.length);
  let out = "";
  for (let b = 0; b < buckets; b++) {
    const from = Math.floor((b * values.length) / buckets);
    const to = Math.floor(((b + 1) * values.length) / buckets);
    let v = Number.NEGATIVE_INFINITY;
    for (const x of values.slice(from, to)) v = Math.max(v, x);
    const level = top > 0 ? Math.round((Math.max(0, v) / top) * (BARS.length - 1)) : 0;
    out += BARS[Math.min(BARS.length - 1, level)];
  }
  return out;
}

export function formatSummary(s: TraceSummary): string {
  const out: string[] = [];
  out.push(
    `task ${s.task_id ?? "?"}: ${s.steps} steps (${s.rewound_steps} rewound), lineage ${s.lineage_length}, ${s.rewinds.length} rewinds, final ${s.final_status}${s.complete ? "" : " (open: no footer)"}`,
  );
  const tools = Object.entries(s.tools).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  out.push(`tools: ${tools.map(([k, v]) => `${k}×${v}`).join(" ") || "none"}`);
  out.push("metrics (per step, file order; scale 0..max(threshold, max)):");
  for (const m of Q_METRICS) {
    const x = s.metrics[m];
    const top = Math.max(x.threshold ?? 0, x.max);
    const over = x.threshold !== null && x.max > x.threshold ? " over" : "";
    out.push(
      `  ${m.padEnd(19)} ${sparkline(x.series, top)}  last ${x.last} max ${x.max} / limit ${x.threshold ?? "-"}${over}`,
    );
  }
  const shown = s.status_timeline.slice(0, 20);
  out.push(
    `status: ${shown.map((c) => `${c.to}@${c.step_id}`).join(" → ") || "none"}${s.status_timeline.length > 20 ? ` … (${s.status_timeline.length - 20} more changes)` : ""}`,
  );
  const v = Object.entries(s.violations);
  out.push(`violations: ${v.length ? v.map(([k, n]) => `${k}×${n}`).join(" ") : "none"}`);
  if (s.rewinds.length) {
    const r = s.rewinds.slice(0, 10).map((x) => `${x.from_step}→${x.to_step}`);
    out.push(`rewinds: ${r.join(" ")}${s.rewinds.length > 10 ? ` … (${s.rewinds.length - 10} more)` : ""}`);
  }
  return `${out.join("\n")}\n`;
}

/** Reads a whole trace into memory with validation (exports need every event). */
export async function loadEvents(path: string): Promise<{ events: CTFEvent[]; issues: CTFIssue[] }> {
  const events: CTFEvent[] = [];
  const v = new CTFValidator({ recompute: false, onEvent: (e) => events.push(e) });
  await readCTFFile(path, (l) => (l.issue ? v.pushIssue(l.issue) : v.push(l.value, l.line)));
  return { events, issues: v.finish() };
}

export function loadEventsText(text: string, requireFooter = true): { events: CTFEvent[]; issues: CTFIssue[] } {
  const events: CTFEvent[] = [];
  const v = new CTFValidator({ recompute: false, requireFooter, onEvent: (e) => events.push(e) });
  parseCTFText(text, (l) => (l.issue ? v.pushIssue(l.issue) : v.push(l.value, l.line)));
  return { events, issues: v.finish() };
}
