// The session list's filters: they live in the URL (route.ts); toQuery turns them into GET /replay/sessions.
import type { SessionQuery } from "../api.js";
import type { Params } from "../route.js";

export const ANY_TIME = { label: "Any time" };
export const RANGES: Record<string, { label: string; ms?: number }> = {
  "": ANY_TIME,
  "24h": { label: "Last 24 hours", ms: 86_400_000 },
  "7d": { label: "Last 7 days", ms: 7 * 86_400_000 },
  "30d": { label: "Last 30 days", ms: 30 * 86_400_000 },
  custom: { label: "Custom…" },
};
export const FILTER_KEYS = [
  "operator",
  "device_type",
  "scenario",
  "difficulty",
  "level_min",
  "level_max",
  "anom",
  "v2",
  "range",
  "from",
  "to",
];

/** A filter parameter's new value (undefined removes it); a change clears the selection. */
export type SetFilter = (k: string, v: string | undefined) => void;

export function toQuery(p: Params): SessionQuery {
  const q: SessionQuery = { sort: p.sort || undefined, limit: 50 };
  if (p.operator) q.operator = p.operator;
  if (p.device_type) q.device_type = p.device_type;
  if (p.scenario) q.scenario = p.scenario;
  if (p.difficulty) q.difficulty = p.difficulty;
  if (p.level_min && p.level_min !== "0") q.level_min = Number(p.level_min);
  if (p.level_max && p.level_max !== "30") q.level_max = Number(p.level_max);
  if (p.anom === "1") q.has_anomalies = true;
  if (p.v2 === "1") q.spec_version = "v2";
  const r = RANGES[p.range ?? ""];
  if (r?.ms) q.from = new Date(Date.now() - r.ms).toISOString();
  if (p.range === "custom") {
    if (p.from) q.from = new Date(`${p.from}T00:00:00Z`).toISOString();
    if (p.to) q.to = new Date(`${p.to}T23:59:59.999Z`).toISOString();
  }
  return q;
}
