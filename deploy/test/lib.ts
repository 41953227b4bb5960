// Shared helpers for the deploy/ checks: where the artifacts are and every query they ship.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const DEPLOY = join(ROOT, "deploy");
export const DASHBOARD_DIR = join(DEPLOY, "grafana", "dashboards");
export const RULES_DIR = join(DEPLOY, "prometheus", "rules");
/** The fabric daemon's dashboard: its queries read `rtt fabric up --metrics`, evaluated by fabric-dashboard.test.ts. */
export const FABRIC_DASHBOARD = "rtt-fabric.json";

// Grafana's portable datasource placeholders (the dashboards' __inputs), literally.
// biome-ignore lint/suspicious/noTemplateCurlyInString: a Grafana placeholder, not a JS template
export const DS_PROMETHEUS = "${DS_PROMETHEUS}";
// biome-ignore lint/suspicious/noTemplateCurlyInString: a Grafana placeholder, not a JS template
export const DS_LOKI = "${DS_LOKI}";

export type DsRef = { type: string; uid: string };
export type Target = { refId: string; expr: string; datasource?: DsRef; instant?: boolean; format?: string };
export type Panel = {
  id: number;
  type: string;
  title: string;
  datasource?: DsRef;
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: Target[];
  panels?: Panel[];
};
export type Variable = {
  name: string;
  type: string;
  query?: unknown;
  datasource?: DsRef;
  current?: { value: unknown };
};
export type Dashboard = {
  __inputs?: { name: string; type: string; pluginId: string }[];
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: Variable[] };
};

export function readText(rel: string): string {
  return readFileSync(join(ROOT, rel), "utf8");
}

export function loadYaml<T = unknown>(rel: string): T {
  return parseYaml(readText(rel)) as T;
}

export function dashboardFiles(): string[] {
  return readdirSync(DASHBOARD_DIR)
    .filter((f) => f.endsWith(".json"))
    .sort();
}

export function loadDashboard(file: string): Dashboard {
  return JSON.parse(readFileSync(join(DASHBOARD_DIR, file), "utf8")) as Dashboard;
}

/** Every panel, including those nested in collapsed rows. */
export function allPanels(d: Dashboard): Panel[] {
  return d.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
}

export type ShippedQuery = {
  source: string; // file and panel/variable/rule it came from
  lang: "promql" | "logql";
  expr: string;
  kind: "panel" | "variable" | "record" | "alert";
  instant?: boolean;
};

function langOf(ds: DsRef | undefined): "promql" | "logql" {
  if (!ds) throw new Error("query without datasource");
  if (ds.uid === DS_PROMETHEUS || ds.type === "prometheus") return "promql";
  if (ds.uid === DS_LOKI || ds.type === "loki") return "logql";
  throw new Error(`unknown datasource ${JSON.stringify(ds)}`);
}

/** Every PromQL/LogQL string in every shipped dashboard (panel targets and variable queries). */
export function dashboardQueries(): ShippedQuery[] {
  const out: ShippedQuery[] = [];
  for (const file of dashboardFiles()) {
    const d = loadDashboard(file);
    for (const p of allPanels(d)) {
      for (const t of p.targets ?? []) {
        out.push({
          source: `${file} › ${p.title} › ${t.refId}`,
          lang: langOf(t.datasource ?? p.datasource),
          expr: t.expr,
          kind: "panel",
          instant: t.instant === true,
        });
      }
    }
    for (const v of d.templating.list) {
      if (v.type !== "query") continue;
      const q = v.query as { query?: string } | string;
      out.push({
        source: `${file} › $${v.name}`,
        lang: langOf(v.datasource),
        expr: typeof q === "string" ? q : String(q.query),
        kind: "variable",
      });
    }
  }
  return out;
}

type RuleFile = { groups: { name: string; rules: { record?: string; alert?: string; expr: string }[] }[] };

export function ruleFiles(): string[] {
  return readdirSync(RULES_DIR)
    .filter((f) => f.endsWith(".yml") && !f.endsWith(".test.yml"))
    .sort();
}

/** Every expression in every shipped rule file. */
export function ruleQueries(): ShippedQuery[] {
  const out: ShippedQuery[] = [];
  for (const file of ruleFiles()) {
    const rf = loadYaml<RuleFile>(`deploy/prometheus/rules/${file}`);
    for (const g of rf.groups) {
      for (const r of g.rules) {
        out.push({
          source: `${file} › ${g.name} › ${r.record ?? r.alert}`,
          lang: "promql",
          expr: r.expr.trim(),
          kind: r.alert ? "alert" : "record",
        });
      }
    }
  }
  return out;
}

/**
 * Grafana's variables resolved the way Grafana would for "All" on a live server:
 * multi-value query variables become the regex `.*`, interval macros a window that suits the scrape interval.
 */
export function substituteGrafanaVars(expr: string, vars: { rateInterval: string; interval: string; range: string }) {
  return expr
    .replaceAll("$__rate_interval", vars.rateInterval)
    .replaceAll("$__interval", vars.interval)
    .replaceAll("$__range", vars.range)
    .replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, ".*");
}

/** For `label_values(metric, label)` variable queries: the metric and label, to ask Prometheus's series API. */
export function parseLabelValues(q: string): { metric: string; label: string } | null {
  const m = /^label_values\(\s*([A-Za-z_:][A-Za-z0-9_:]*(?:\{[^}]*\})?)\s*,\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)$/.exec(
    q.trim(),
  );
  return m ? { metric: m[1]!, label: m[2]! } : null;
}

/** `lhs OP number` of an alert expression, so its operand can be checked for data while the alert is quiet. */
export function alertOperand(expr: string): string | null {
  const m = /^([\s\S]+?)\s*(>=|<=|==|!=|>|<)\s*(-?[0-9.]+(?:e-?[0-9]+)?)\s*$/.exec(expr.trim());
  return m ? m[1]!.trim() : null;
}
