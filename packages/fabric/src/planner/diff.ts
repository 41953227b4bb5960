import { cmp, type Plan, type PlanRoute, pairKey } from "./types.js";

export interface RouteChange {
  from: string;
  to: string;
  before: PlanRoute;
  after: PlanRoute;
}

export interface PlacementChange {
  symbol: string;
  before: string | null;
  after: string | null;
}

/** What changes from plan `a` to plan `b`: routes by (from, to), placements by symbol; every list sorted. */
export interface PlanDiff {
  from: string | null;
  to: string;
  added: PlanRoute[];
  removed: PlanRoute[];
  /** Same (from, to), another lane or route_id. */
  changed: RouteChange[];
  placement: PlacementChange[];
}

type Routes = Pick<Plan, "routes" | "placement"> & { plan_id?: string };

const byPair = (a: PlanRoute, b: PlanRoute) => cmp(a.from, b.from) || cmp(a.to, b.to);

/** The difference of two plans' tables (`a` null: everything in `b` is added). */
export function diffPlans(a: Routes | null, b: Routes): PlanDiff {
  const before = new Map((a?.routes ?? []).map((r) => [pairKey(r.from, r.to), r]));
  const after = new Map(b.routes.map((r) => [pairKey(r.from, r.to), r]));
  const added: PlanRoute[] = [];
  const removed: PlanRoute[] = [];
  const changed: RouteChange[] = [];
  for (const [k, r] of after) {
    const old = before.get(k);
    if (!old) added.push(r);
    else if (old.lane !== r.lane || old.route_id !== r.route_id)
      changed.push({ from: r.from, to: r.to, before: old, after: r });
  }
  for (const [k, r] of before) if (!after.has(k)) removed.push(r);
  const placement: PlacementChange[] = [];
  const pa = a?.placement ?? {};
  const pb = b.placement;
  const symbols = [...new Set([...Object.keys(pa), ...Object.keys(pb)])].sort(cmp);
  for (const s of symbols) {
    const x = Object.hasOwn(pa, s) ? (pa[s] ?? null) : null;
    const y = Object.hasOwn(pb, s) ? (pb[s] ?? null) : null;
    if (x !== y) placement.push({ symbol: s, before: x, after: y });
  }
  added.sort(byPair);
  removed.sort(byPair);
  changed.sort((x, y) => cmp(x.from, y.from) || cmp(x.to, y.to));
  return { from: a?.plan_id ?? null, to: b.plan_id ?? "", added, removed, changed, placement };
}

/** Size of a diff: routes added + removed + changed + placements moved (the churn the property tests bound). */
export const diffSize = (d: PlanDiff): number =>
  d.added.length + d.removed.length + d.changed.length + d.placement.length;

/** The diff as lines for people: `+` added, `-` removed, `~` changed, `>` placement moves. */
export function formatDiff(d: PlanDiff): string {
  const out: string[] = [`plan diff ${d.from ?? "(none)"} -> ${d.to}`];
  for (const r of d.added) out.push(`+ route ${r.route_id} ${r.from} -> ${r.to} [${r.lane}]`);
  for (const r of d.removed) out.push(`- route ${r.route_id} ${r.from} -> ${r.to} [${r.lane}]`);
  for (const c of d.changed)
    out.push(
      `~ route ${c.from} -> ${c.to}: ${c.before.route_id !== c.after.route_id ? `route_id ${c.before.route_id} -> ${c.after.route_id}, ` : ""}lane ${c.before.lane} -> ${c.after.lane}`,
    );
  for (const p of d.placement) out.push(`> ${p.symbol}: ${p.before ?? "(unplaced)"} -> ${p.after ?? "(unplaced)"}`);
  if (out.length === 1) out.push("(no changes)");
  return `${out.join("\n")}\n`;
}
