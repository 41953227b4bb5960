import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import { fsyncDir, writeFileAtomic } from "../atomic.js";
import type { PlanRoute } from "../planner/types.js";
import { pairKey } from "../planner/types.js";
import { crashPoint } from "./crash.js";
import { sameRoutes } from "./store.js";

/** One step of the routing table: what participants prepare, commit or abort. */
export interface Transition {
  kind: "apply" | "rollback" | "recover";
  /** The plan in force once this transition commits (null: no plan, the empty table). */
  plan_id: string | null;
  /** The plan in force before it. */
  from: string | null;
  /** The whole table in force after it, sorted by route_id. */
  routes: readonly PlanRoute[];
}

export type Vote = { ok: true } | { ok: false; reason: string };

/** What a participant serves now. */
export interface ParticipantState {
  plan_id: string | null;
  routes: PlanRoute[];
  /** Set when what it holds cannot be read (then it equals no table, and recovery rewrites it). */
  problem?: string;
}

/**
 * A party to the two-phase commit (spec/fabric/reconcile.md, "Participant protocol"). The coordinator calls, under
 * the apply lock and in this order:
 * - `prepare(t)`: make sure `t` can be committed (stage it durably), then vote. A no vote carries the reason; a throw
 *   counts as a no vote with the error's message. Nothing a client sees may change yet.
 * - then exactly one of `commit(t)` (after the commit record is durable: switch to `t`) or `abort(t)` (drop what was
 *   staged). Both must be idempotent: recovery calls them again after a crash, and calls `abort` for a transition the
 *   participant may never have seen.
 * - `state()`: what it serves now (null: never given a table), for VERIFY and for recovery, which re-drives any
 *   participant whose state is not the WAL's plan in force.
 * The fabric daemons of part 3 become participants; the local one below materialises the table to a file.
 */
export interface Participant {
  readonly name: string;
  prepare(t: Transition): Promise<Vote>;
  commit(t: Transition): Promise<void>;
  abort(t: Transition): Promise<void>;
  state(): Promise<ParticipantState | null>;
}

/** Whether a participant's state is the table of `planId` (no state at all equals the empty table of no plan). */
export function sameTable(s: ParticipantState | null, planId: string | null, routes: readonly PlanRoute[]): boolean {
  if (s === null) return planId === null && routes.length === 0;
  return s.problem === undefined && s.plan_id === planId && sameRoutes(s.routes, routes);
}

/** Why a table cannot be served, or undefined: unique route_ids in order, one route per (from, to). */
export function tableProblem(routes: readonly PlanRoute[]): string | undefined {
  const pairs = new Set<string>();
  let last = 0;
  for (const r of routes) {
    if (!(r.route_id > last)) return `route_id ${r.route_id} out of order or repeated`;
    last = r.route_id;
    const k = pairKey(r.from, r.to);
    if (pairs.has(k)) return `route ${r.from} -> ${r.to} appears twice`;
    pairs.add(k);
  }
  return undefined;
}

const tableText = (t: Transition) => `${JSON.stringify({ plan_id: t.plan_id, routes: t.routes }, null, 2)}\n`;

/**
 * The participant that stands in for the fabric daemons: materialises the routing table to one file
 * (`.rtt/fabric/routes.json`, `{plan_id, routes}`), which readers see whole or not at all.
 * - prepare: check the table, write it to `<file>.prepared` and fsync it, vote yes (no when it cannot be written);
 * - commit: rename the staged file over the table and fsync the directory (or, when nothing is staged — recovery
 *   after a crash that lost it — write the table atomically);
 * - abort: delete the staged file.
 */
export class LocalParticipant implements Participant {
  readonly name: string;
  readonly staged: string;

  constructor(
    readonly file: string,
    name = "local",
  ) {
    this.name = name;
    this.staged = `${file}.prepared`;
  }

  async prepare(t: Transition): Promise<Vote> {
    const problem = tableProblem(t.routes);
    if (problem) return { ok: false, reason: `${this.file}: ${problem}` };
    try {
      // Durable contents, but no folder fsync: the staged name never needs to survive a crash (recovery drops it and
      // re-drives from the WAL); commit's rename + folder fsync makes the table's name durable.
      writeFileAtomic(this.staged, tableText(t), { durable: false });
      const fd = openSync(this.staged, "r");
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      this.stagedFor = t;
    } catch (e) {
      return { ok: false, reason: `${this.staged}: ${(e as Error).message}` };
    }
    return { ok: true };
  }

  async commit(t: Transition): Promise<void> {
    if (this.stagedIs(t)) {
      this.stagedFor = undefined;
      renameSync(this.staged, this.file);
      crashPoint("mid-participant");
      fsyncDir(dirname(this.file));
    } else {
      writeFileAtomic(this.file, tableText(t));
      rmSync(this.staged, { force: true });
    }
  }

  async abort(_t: Transition): Promise<void> {
    this.stagedFor = undefined;
    rmSync(this.staged, { force: true });
  }

  async state(): Promise<ParticipantState | null> {
    return readTable(this.file);
  }

  /** Whether this object staged `t` (then the staged file holds it; a fresh process after a crash never did). */
  private stagedIs(t: Transition): boolean {
    return this.stagedFor === t && existsSync(this.staged);
  }

  private stagedFor: Transition | undefined;
}

/** The table in a materialised file; null when there is none, `problem` set when it cannot be read. */
export function readTable(file: string): ParticipantState | null {
  if (!existsSync(file)) return null;
  const bad = (problem: string): ParticipantState => ({ plan_id: null, routes: [], problem: `${file}: ${problem}` });
  try {
    const v = JSON.parse(readFileSync(file, "utf8")) as ParticipantState;
    if (typeof v !== "object" || v === null || !Array.isArray(v.routes)) return bad("not a routing table");
    if (v.plan_id !== null && typeof v.plan_id !== "string") return bad("plan_id is not a string");
    return { plan_id: v.plan_id, routes: v.routes };
  } catch (e) {
    return bad((e as Error).message);
  }
}
