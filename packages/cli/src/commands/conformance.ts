import { readFileSync, writeFileSync } from "node:fs";
import { formatIssue, validateSessionLog } from "@rtt/core";
import { type Command, InvalidArgumentError } from "commander";
import { badgeMarkdown } from "../conformance-kit/badge.js";
import { type CaseFile, defaultCasesPath, loadCases } from "../conformance-kit/cases.js";
import { DEFAULT_TIMEOUT_MS, formatResult, runConformanceKit, summaryLine } from "../conformance-kit/harness.js";
import { toJUnit } from "../conformance-kit/junit.js";
import { EXIT_INVALID, EXIT_OK, EXIT_USAGE } from "../lib/exit.js";

export interface ConformanceCliOptions {
  cases?: string;
  junit?: string;
  json?: string;
  timeout?: number;
  allowSkip?: boolean;
  name?: string;
  verbose?: boolean;
}

interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

const stdio: Io = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) };

function parseTimeout(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError("must be a positive integer (milliseconds)");
  return n;
}

export function register(program: Command): void {
  program
    .command("conformance")
    .description(
      "Drive an RTT-Inside implementation over the conformance protocol (spec/v1/conformance_protocol.md): one JSON case per line on its stdin, one session log (or {errored}/{skipped}) per line on its stdout; each reply is judged by the validator and against the reference engine (1e-9).",
    )
    .argument("<command...>", "the implementation and its arguments, after --")
    .option("--cases <file>", "case file (default: spec/v1/conformance_cases.json)")
    .option("--junit <file>", "also write a JUnit XML report")
    .option("--json <file>", "also write the report as JSON")
    .option("--timeout <ms>", `per-case timeout in milliseconds (default ${DEFAULT_TIMEOUT_MS})`, parseTimeout)
    .option("--allow-skip", "cases the implementation skips do not fail the run")
    .option("--name <name>", "suite name in the reports (default: the command)")
    .option("-v, --verbose", "print warnings of passing cases too")
    .addHelpText(
      "after",
      "\nExample: rtt conformance -- python3 spec/v1/examples/python/runner.py --protocol\nExit codes: 0 every case passed, 1 usage error or unreadable case file, 2 some case failed.",
    )
    .action(async (command: string[], opts: ConformanceCliOptions) => {
      process.exitCode = await conformanceCommand(command, opts);
    });

  program
    .command("badge")
    .description(
      "Print the Markdown conformance badge for a session log that passes the validator and the reference vectors.",
    )
    .argument("<file>", "a session log (.json)")
    .addHelpText("after", "\nExit codes: 0 badge printed, 1 unreadable or not JSON, 2 the log does not pass.")
    .action((file: string) => {
      process.exitCode = badgeCommand(file);
    });
}

/** `rtt conformance`: runs the cases, prints verdicts and the summary line, writes reports; returns the exit code. */
export async function conformanceCommand(
  command: string[],
  opts: ConformanceCliOptions,
  io: Io = stdio,
): Promise<number> {
  if (command.length === 0) {
    io.err("rtt conformance: give the implementation after --, e.g. rtt conformance -- ./my-impl --protocol\n");
    return EXIT_USAGE;
  }
  let cases: CaseFile;
  const casesPath = opts.cases ?? defaultCasesPath();
  try {
    cases = loadCases(casesPath);
  } catch (err) {
    io.err(`rtt conformance: ${(err as Error).message}\n`);
    return EXIT_USAGE;
  }
  io.out(`rtt conformance: ${command.join(" ")} — ${cases.cases.length} cases from ${casesPath}\n`);
  const report = await runConformanceKit({
    command,
    cases,
    timeoutMs: opts.timeout,
    allowSkip: opts.allowSkip,
    onResult: (r) => io.out(`${formatResult(r, opts.verbose)}\n`),
  });
  if (report.skipped && opts.allowSkip) io.out(`${report.skipped} skipped\n`);
  io.out(`${summaryLine(report)}\n`);
  try {
    if (opts.junit) writeFileSync(opts.junit, toJUnit(report, opts.name ?? command.join(" ")));
    if (opts.json) writeFileSync(opts.json, `${JSON.stringify({ name: opts.name ?? null, ...report }, null, 2)}\n`);
  } catch (err) {
    io.err(`rtt conformance: cannot write report: ${(err as Error).message}\n`);
    return EXIT_USAGE;
  }
  return report.ok ? EXIT_OK : EXIT_INVALID;
}

/** `rtt badge FILE`: the badge for a log that passes with reference conformance, else the reasons on stderr. */
export function badgeCommand(file: string, io: Io = stdio): number {
  let log: unknown;
  try {
    log = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    io.err(`rtt badge: cannot read ${file}: ${(err as Error).message}\n`);
    return EXIT_USAGE;
  }
  const result = validateSessionLog(log, { conformance: true });
  if (!result.ok || !result.specVersion) {
    io.err(`rtt badge: ${file} does not pass, no badge:\n`);
    for (const e of result.errors) io.err(`  ${formatIssue(e)}\n`);
    return EXIT_INVALID;
  }
  io.out(`${badgeMarkdown(result.specVersion)}\n`);
  return EXIT_OK;
}
