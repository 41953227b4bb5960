import { type CaseFile, type ConformanceCase, caseToWire, DEFAULT_TOLERANCE } from "./cases.js";
import { judgeReply, type Status } from "./judge.js";
import { Implementation, type Outcome } from "./process.js";

export interface CaseResult {
  id: string;
  status: Status;
  /** One line naming what went wrong (absent on pass). */
  message?: string;
  /** JSON pointer into the reply of the first problem. */
  path?: string;
  details: string[];
  /** The implementation's stderr, when it crashed, hung or errored on this case. */
  stderr?: string;
  durationMs: number;
}

export interface ConformanceReport {
  command: string[];
  results: CaseResult[];
  passed: number;
  failed: number;
  skipped: number;
  /** True when every case passed (skipped cases count as failures unless allowSkip). */
  ok: boolean;
  durationMs: number;
}

export interface RunOptions {
  /** The implementation: argv[0] and its arguments (spawned without a shell). */
  command: string[];
  cases: CaseFile;
  /** Per-case limit in milliseconds (includes start-up for the first case). Default 10 000. */
  timeoutMs?: number;
  /** Skipped cases do not fail the run. */
  allowSkip?: boolean;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Called after each case, e.g. to print its verdict while the run goes on. */
  onResult?: (r: CaseResult, c: ConformanceCase) => void;
}

export const DEFAULT_TIMEOUT_MS = 10_000;

function describeEnd(o: Outcome, timeoutMs: number): string {
  switch (o.kind) {
    case "timeout":
      return `no reply within ${timeoutMs} ms (timeout); the implementation was killed`;
    case "exit":
      return `the implementation exited (${o.signal ? `signal ${o.signal}` : `code ${o.code}`}) before replying`;
    case "spawn-error":
      return `cannot start the implementation: ${o.message}`;
    default:
      return "";
  }
}

/**
 * Starts the implementation once, sends each case as one line and judges each reply line.
 * When it crashes or hangs, that case fails with its stderr and the implementation is started afresh for the next.
 */
export async function runConformanceKit(opts: RunOptions): Promise<ConformanceReport> {
  const [cmd, ...args] = opts.command;
  if (!cmd) throw new Error("no implementation command given");
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const tolerance = opts.cases.numeric_tolerance ?? DEFAULT_TOLERANCE;
  const impl = new Implementation(cmd, args, { cwd: opts.cwd, env: opts.env });
  const started = Date.now();
  const results: CaseResult[] = [];
  let cannotStart: string | null = null;
  try {
    for (const c of opts.cases.cases) {
      const t0 = Date.now();
      let r: CaseResult;
      if (cannotStart !== null) {
        r = { id: c.id, status: "fail", message: cannotStart, details: [], durationMs: 0 };
      } else {
        const outcome = await impl.request(caseToWire(c), timeoutMs);
        const durationMs = Date.now() - t0;
        if (outcome.kind === "reply") {
          const { implementationFailed, ...j } = judgeReply(c, outcome.line, tolerance);
          r = { id: c.id, ...j, durationMs };
          if (implementationFailed) r.stderr = impl.stderrTail();
        } else {
          if (outcome.kind === "timeout") await impl.stop();
          const stderr = impl.stderrTail();
          r = { id: c.id, status: "fail", message: describeEnd(outcome, timeoutMs), details: [], stderr, durationMs };
          if (outcome.kind === "spawn-error") cannotStart = r.message!;
          await impl.stop();
        }
      }
      results.push(r);
      opts.onResult?.(r, c);
    }
  } finally {
    await impl.stop(true);
  }
  const passed = results.filter((r) => r.status === "pass").length;
  const skipped = results.filter((r) => r.status === "skip").length;
  const failed = results.length - passed - (opts.allowSkip ? skipped : 0);
  return {
    command: opts.command,
    results,
    passed,
    failed,
    skipped,
    ok: failed === 0,
    durationMs: Date.now() - started,
  };
}

function indent(text: string, prefix = "    "): string {
  return text
    .replace(/\s+$/, "")
    .split("\n")
    .map((l) => prefix + l)
    .join("\n");
}

/** One verdict as printed: `PASS id`, `FAIL id: message`, `SKIP id: reason`, plus indented details and stderr. */
export function formatResult(r: CaseResult, verbose = false): string {
  const head = `${r.status.toUpperCase()} ${r.id}${r.message ? `: ${r.message}` : ""} (${r.durationMs} ms)`;
  const lines = [head];
  if (r.status === "fail" && r.path !== undefined) lines.push(`    at ${r.path || "/"}`);
  const details = verbose || r.status === "fail" ? r.details.slice(0, 10) : [];
  for (const d of details) lines.push(`    ${d}`);
  if (r.stderr?.trim()) lines.push("    stderr:", indent(r.stderr, "      | "));
  return lines.join("\n");
}

/** The summary line, exactly `N passed, M failed`. */
export function summaryLine(report: ConformanceReport): string {
  return `${report.passed} passed, ${report.failed} failed`;
}
