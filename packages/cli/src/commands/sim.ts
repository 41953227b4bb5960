import { readFileSync } from "node:fs";
import {
  evaluateCurriculum,
  listScenarios,
  type MasteryState,
  type Mode,
  masteryLadder,
  POLICY_NAMES,
  parseRecordedInputs,
  type SessionLog,
  type SimulateOptions,
  summarizeSession,
  validateSessionLog,
} from "@rtt/core";
import type { Command } from "commander";
import { CliExit, EXIT_INVALID, EXIT_OK, EXIT_USAGE } from "../lib/exit.js";
import { readLogs } from "../lib/read-logs.js";

/** `rtt scenarios`, `rtt mastery`, `rtt curriculum` (issue 3). `rtt run --scenario …` lives in run.ts and uses
 * `simulateOptionsFromCli` below. */
export function register(program: Command): void {
  program
    .command("scenarios")
    .description("List the built-in training scenarios (spec/scenarios/*.json).")
    .option("--format <format>", "text or json", "text")
    .action((opts: { format: string }) => {
      const format = checkFormat(opts.format);
      const list = listScenarios();
      if (format === "json") {
        process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
        return;
      }
      const rows = list.map((s) => [
        s.id,
        s.device_type,
        s.difficulty,
        s.segments.map((g) => g.label).join(">"),
        (s.extensions ?? []).join(",") || "-",
        s.title,
      ]);
      process.stdout.write(table(["ID", "DEVICE", "DIFFICULTY", "SEGMENTS", "EXT", "TITLE"], rows));
      process.stdout.write(`policies: ${POLICY_NAMES.join(", ")}\n`);
    });

  program
    .command("mastery")
    .description(
      "Replay the mastery ladder over session logs in the order given: each operator's level and XP after each session.",
    )
    .argument("<files...>", "session logs (.json or .ndjson), or - for stdin")
    .option("--format <format>", "text or json", "text")
    .addHelpText("after", "\nExit codes: 0 ok, 1 usage error / unreadable input, 2 a log is not a valid session log.")
    .action(async (files: string[], opts: { format: string }) => {
      const format = checkFormat(opts.format);
      const { logs, failed } = await readValidLogs(files);
      const steps = masteryLadder(logs.map(summarizeSession));
      const final = new Map<string, MasteryState>();
      const rows = steps.map(({ summary, before, promotion }) => {
        final.set(promotion.state.operator_id, promotion.state);
        return {
          session_id: summary.session_id,
          operator_id: promotion.state.operator_id,
          scenario: summary.scenario,
          difficulty: summary.difficulty,
          score_final: summary.score_final,
          anomaly_count: summary.anomaly_count,
          max_severity: summary.max_severity,
          level_before: before.level,
          level: promotion.state.level,
          xp: round4(promotion.state.xp),
          delta: round4(promotion.delta),
          reason: promotion.reason,
        };
      });
      if (format === "json") {
        const operators = [...final.values()].map((s) => ({ ...s, xp: round4(s.xp) }));
        process.stdout.write(`${JSON.stringify({ sessions: rows, operators }, null, 2)}\n`);
      } else {
        process.stdout.write(
          table(
            ["SESSION", "OPERATOR", "SCENARIO", "SCORE", "ANOM", "MAXSEV", "LEVEL", "XP", "DELTA", "REASON"],
            rows.map((r) => [
              r.session_id,
              r.operator_id,
              r.scenario,
              String(r.score_final),
              String(r.anomaly_count),
              String(r.max_severity),
              r.level > r.level_before ? `${r.level_before}→${r.level}` : String(r.level),
              r.xp.toFixed(4),
              r.delta.toFixed(4),
              r.reason,
            ]),
          ),
        );
      }
      process.exitCode = failed ? EXIT_INVALID : EXIT_OK;
    });

  program
    .command("curriculum")
    .description("Evaluate a session log against its scenario's curriculum objectives and recommend drills.")
    .argument("<file>", "a session log (.json), or - for stdin")
    .option("--format <format>", "text or json", "text")
    .addHelpText(
      "after",
      "\nExit codes: 0 every objective passed, 1 usage error, 2 an objective failed or the log is invalid.",
    )
    .action(async (file: string, opts: { format: string }) => {
      const format = checkFormat(opts.format);
      const { logs, failed } = await readValidLogs([file]);
      const [log] = logs;
      if (!log || logs.length !== 1)
        throw new CliExit(failed ? EXIT_INVALID : EXIT_USAGE, `${file}: expected one session log`);
      const report = evaluateCurriculum(log);
      if (format === "json") process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      else {
        const out = [
          `Curriculum: ${report.scenario} (${report.difficulty})  session ${report.session_id}`,
          "Objectives:",
        ];
        for (const o of report.objectives) {
          out.push(`  ${o.passed ? "✓" : "✗"} ${o.text}`);
          for (const e of o.evidence) out.push(`      ${e.segment_id} t ${e.t_from}–${e.t_to}: ${e.note}`);
        }
        out.push(report.drills.length ? "Drills:" : "Drills: none needed");
        for (const d of report.drills) out.push(`  - ${d.drill}  [${d.anomaly_type}: ${d.reason}]`);
        process.stdout.write(`${out.join("\n")}\n`);
      }
      process.exitCode = report.passed ? EXIT_OK : EXIT_INVALID;
    });
}

/** The `rtt run` simulation options as commander hands them over (all strings). */
export interface SimCliOptions {
  scenario: string;
  policy?: string;
  seed?: string;
  operator?: string;
  mode?: string;
  /** A JSON file: [{t, u, segment_id?}], {inputs: [...]}, or a session log whose samples carry `u`. */
  inputs?: string;
  sessionId?: string;
  timestamp?: string;
}

/**
 * Turns `rtt run --scenario ID [--policy P] [--seed N] [--operator URN] [--mode M] [--inputs FILE]` into
 * `simulateSession` options; throws CliExit(EXIT_USAGE) with a clear message on a bad value. `--inputs` implies REPLAY.
 */
export function simulateOptionsFromCli(o: SimCliOptions): SimulateOptions {
  const out: SimulateOptions = { scenario: o.scenario };
  if (o.policy !== undefined) {
    if (!POLICY_NAMES.includes(o.policy))
      throw new CliExit(
        EXIT_USAGE,
        `--policy must be one of ${POLICY_NAMES.join(", ")}, got ${JSON.stringify(o.policy)}`,
      );
    out.policy = o.policy;
  }
  if (o.seed !== undefined) {
    const n = Number(o.seed);
    if (o.seed.trim() === "" || !Number.isInteger(n) || n < 0 || n > 0xffffffff)
      throw new CliExit(EXIT_USAGE, `--seed must be an integer 0..4294967295, got ${JSON.stringify(o.seed)}`);
    out.seed = n;
  }
  if (o.operator !== undefined) {
    if (!/^urn:operator:\S+$/.test(o.operator))
      throw new CliExit(
        EXIT_USAGE,
        `--operator must be a URN like urn:operator:team:name, got ${JSON.stringify(o.operator)}`,
      );
    out.operator_id = o.operator;
  }
  if (o.mode !== undefined) {
    if (!["TRAINING", "LIVE", "REPLAY"].includes(o.mode))
      throw new CliExit(EXIT_USAGE, `--mode must be TRAINING, LIVE or REPLAY, got ${JSON.stringify(o.mode)}`);
    out.mode = o.mode as Mode;
  }
  if (o.inputs !== undefined) {
    let value: unknown;
    try {
      value = JSON.parse(readFileSync(o.inputs, "utf8"));
    } catch (err) {
      throw new CliExit(EXIT_USAGE, `--inputs ${o.inputs}: ${(err as Error).message}`);
    }
    try {
      out.inputs = parseRecordedInputs(value);
    } catch (err) {
      throw new CliExit(EXIT_USAGE, `--inputs ${o.inputs}: ${(err as Error).message}`);
    }
    out.mode ??= "REPLAY";
  } else if (out.mode === "REPLAY") throw new CliExit(EXIT_USAGE, "--mode REPLAY needs --inputs FILE");
  if (o.sessionId !== undefined) out.session_id = o.sessionId;
  if (o.timestamp !== undefined) out.timestamp = o.timestamp;
  return out;
}

function checkFormat(f: string): "text" | "json" {
  if (f !== "text" && f !== "json")
    throw new CliExit(EXIT_USAGE, `--format must be text or json, got ${JSON.stringify(f)}`);
  return f;
}

/** Reads every log of every input, in order; reports unreadable or invalid ones on stderr and skips them. */
async function readValidLogs(files: string[]): Promise<{ logs: SessionLog[]; failed: number }> {
  const logs: SessionLog[] = [];
  let failed = 0;
  for (const source of files) {
    for await (const rec of readLogs(source)) {
      if (rec.error !== undefined) throw new CliExit(EXIT_USAGE, `${source}:${rec.line}: ${rec.error}`);
      const v = validateSessionLog(rec.value);
      if (!v.ok) {
        failed++;
        process.stderr.write(
          `rtt: ${source}:${rec.line}: not a valid session log, skipped (${v.errors[0]?.message})\n`,
        );
        continue;
      }
      logs.push(rec.value as SessionLog);
    }
  }
  return { logs, failed };
}

const round4 = (x: number) => Math.round(x * 1e4) / 1e4;

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return `${[line(head), ...rows.map(line)].join("\n")}\n`;
}
