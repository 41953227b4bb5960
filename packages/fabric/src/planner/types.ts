import type { Signature } from "../trust/sign.js";

/** The three lane types of seed 004's fabric. */
export type Lane = "shm" | "uds" | "tcp";
export const LANES: readonly Lane[] = ["shm", "uds", "tcp"];

/** One route of a plan (spec/fabric/plan.schema.json#/$defs/route). */
export interface PlanRoute {
  route_id: number;
  from: string;
  to: string;
  lane: Lane;
}

export interface RejectedRoute {
  from: string;
  to: string;
  code: string;
  reason: string;
}

/** A routing plan as spec/fabric/plan.schema.json defines it. */
export interface Plan {
  plan_id: string;
  inputs: { hash: string; base: string | null; files?: Record<string, string> };
  routes_add: PlanRoute[];
  routes_remove: PlanRoute[];
  routes: PlanRoute[];
  placement: Record<string, string>;
  rejected?: RejectedRoute[];
  stats?: Record<string, unknown>;
  sign?: Signature;
}

/** The pair key of a route: the planner's identity of a route across plans. */
export const pairKey = (from: string, to: string): string => `${from}\u0000${to}`;

/** Code-point order (never locale order): the one comparison every sort in the planner uses. */
export const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
