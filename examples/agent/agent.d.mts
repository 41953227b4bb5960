// Types for agent.mjs (plain ESM JavaScript so `node examples/agent/run.mjs` needs no TypeScript loader), so the
// TypeScript tests that run it are type-checked.
import type { CorridorSpec, CorridorStatus, CTFSink } from "@rtt/ctf";

export declare const TASK: string;
export declare const SPEC: CorridorSpec;
export declare const SCENARIOS: Record<
  "steady" | "flaky",
  { seed: number; timeouts: number; slowBrowser: boolean; detours: number }
>;
export declare function calculate(expr: string): number;
/** Runs the agent on `writer` (any CTF sink). Returns the final corridor status. */
export declare function runAgent(opts: { writer: CTFSink; scenario?: string; start?: number }): CorridorStatus;
