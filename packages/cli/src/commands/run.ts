import { randomUUID } from "node:crypto";
import { closeSync, openSync, writeSync } from "node:fs";
import { referenceRunV1, referenceRunV2, simulateSession, writeSessionLog } from "@rtt/core";
import type { Command } from "commander";
import { CliExit, EXIT_USAGE } from "../lib/exit.js";
import { simulateOptionsFromCli } from "./sim.js";

interface RunOptions {
  spec: string;
  scenario?: string;
  policy?: string;
  seed?: string;
  operator?: string;
  mode?: string;
  inputs?: string;
  steps?: string;
  dt?: string;
  sessionId?: string;
  timestamp?: string;
  out?: string;
  compact?: boolean;
}

export function register(program: Command): void {
  program
    .command("run")
    .description(
      "Run the engine and emit a session log. Without --scenario: the reference vector (v2: warmup + main segments, as the seed's /run/v2). With --scenario: a simulated training session (see `rtt scenarios`).",
    )
    .option("--spec <version>", "v1 or v2 (reference runs only; scenarios always emit v2)", "v2")
    .option("--scenario <id>", "simulate a built-in scenario, e.g. COMT_LOCK_01")
    .option("--policy <name>", "scripted operator: none, novice, competent (default) or expert")
    .option("--seed <n>", "PRNG seed (default 1); same scenario + policy + seed → byte-identical log")
    .option("--operator <urn>", "operator_id, e.g. urn:operator:triadic:alice.smith")
    .option("--mode <mode>", "TRAINING (default), LIVE, or REPLAY (needs --inputs)")
    .option(
      "--inputs <file>",
      "recorded operator inputs to replay: [{t, u, segment_id?}] or a session log (implies REPLAY)",
    )
    .option("--steps <n>", "number of update steps in the main segment (default: the reference vector's 3)")
    .option("--dt <x>", "time step (default: the reference vector's 0.1)")
    .option("--session-id <id>", "session_id (default: a random RTT-<uuid>)")
    .option("--timestamp <iso>", "timestamp (default: now); give both this and --session-id for byte-identical output")
    .option("--out <file>", "write the log to FILE instead of stdout")
    .option("--compact", "one line of JSON (NDJSON-friendly) instead of pretty-printed")
    .action((opts: RunOptions) => {
      const log = runLog(opts);
      // Streamed in chunks, a simulated log straight from its columns: JSON.stringify's bytes without building the
      // sample objects or one string of the whole log (an hour at 1 ms is ~530 M characters, about V8's limit).
      const fd = opts.out ? openSync(opts.out, "w") : undefined;
      const write = (chunk: string) => (fd === undefined ? process.stdout.write(chunk) : writeSync(fd, chunk));
      try {
        writeSessionLog(log, write, opts.compact ? undefined : 2);
        write("\n");
      } finally {
        if (fd !== undefined) closeSync(fd);
      }
    });
}

function parseNumber(name: string, raw: string | undefined, integer: boolean): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(n) || (integer && (!Number.isInteger(n) || n < 0))) {
    throw new CliExit(
      EXIT_USAGE,
      `--${name} must be ${integer ? "a non-negative integer" : "a finite number"}, got ${JSON.stringify(raw)}`,
    );
  }
  return n;
}

export function runLog(opts: RunOptions) {
  if (opts.scenario !== undefined) {
    if (opts.spec !== "v2") throw new CliExit(EXIT_USAGE, "--scenario emits v2 logs; drop --spec v1");
    if (opts.steps !== undefined || opts.dt !== undefined) {
      throw new CliExit(EXIT_USAGE, "--steps/--dt apply to reference runs; a scenario defines its own segments and dt");
    }
    const sim = simulateOptionsFromCli({ ...opts, scenario: opts.scenario });
    try {
      return simulateSession(sim);
    } catch (err) {
      throw new CliExit(EXIT_USAGE, (err as Error).message);
    }
  }
  for (const flag of ["policy", "seed", "operator", "mode", "inputs"] as const) {
    if (opts[flag] !== undefined) throw new CliExit(EXIT_USAGE, `--${flag} needs --scenario`);
  }
  if (opts.spec !== "v1" && opts.spec !== "v2")
    throw new CliExit(EXIT_USAGE, `--spec must be v1 or v2, got ${JSON.stringify(opts.spec)}`);
  const timestamp = opts.timestamp ?? new Date().toISOString();
  if (Number.isNaN(Date.parse(timestamp)))
    throw new CliExit(EXIT_USAGE, `--timestamp must be an ISO 8601 date-time, got ${JSON.stringify(timestamp)}`);
  const run = {
    session_id: opts.sessionId ?? `RTT-${randomUUID()}`,
    timestamp,
    steps: parseNumber("steps", opts.steps, true),
    dt: parseNumber("dt", opts.dt, false),
  };
  return opts.spec === "v1" ? referenceRunV1(run) : referenceRunV2(run);
}
