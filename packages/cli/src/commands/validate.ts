import { formatIssue, type ValidationResult, validateSessionLog } from "@rtt/core";
import type { Command } from "commander";
import { EXIT_INVALID, EXIT_OK, EXIT_USAGE } from "../lib/exit.js";
import { byteProgress } from "../lib/progress.js";
import { inputSize, readLogs } from "../lib/read-logs.js";

interface ValidateCliOptions {
  conformance?: boolean;
  strictLabels?: boolean;
  strict?: boolean;
  format: "text" | "json";
  quiet?: boolean;
}

export function register(program: Command): void {
  program
    .command("validate")
    .description(
      "Validate session logs (v1 or v2, chosen by spec_version): the seed's schema (errors), then the project's rules (warnings with stable codes; errors with --strict). Reads .json files and NDJSON (one log per line) from files or stdin (-).",
    )
    .argument("<files...>", "session log files (.json or .ndjson), or - for stdin")
    .option("--conformance", "also compare samples with the reference vectors (spec/v1, spec/v2)")
    .option("--strict-labels", "unknown segment labels are errors instead of warnings")
    .option(
      "--strict",
      "every warning is an error: the project's rules beyond the seed's schemas (spec/VALIDATION.md) refuse the log",
    )
    .option("--format <format>", "report format: text or json", "text")
    .option("-q, --quiet", "print only the summary line")
    .addHelpText(
      "after",
      "\nExit codes: 0 all valid (warnings allowed), 1 usage error / unreadable / not JSON, 2 schema or reference failure (or any warning, with --strict).",
    )
    .action(async (files: string[], opts: ValidateCliOptions) => {
      if (opts.format !== "text" && opts.format !== "json") {
        process.stderr.write(`rtt validate: --format must be text or json, got ${JSON.stringify(opts.format)}\n`);
        process.exitCode = EXIT_USAGE;
        return;
      }
      process.exitCode = await validateFiles(files, opts);
    });
}

function where(source: string, line: number): string {
  const name = source === "-" ? "stdin" : source;
  return line ? `${name}:${line}` : name;
}

function logLabel(source: string, line: number, value: unknown): string {
  const id = (value as { session_id?: unknown } | null)?.session_id;
  return typeof id === "string" ? `${where(source, line)} (${id})` : where(source, line);
}

/** Validates every log of every input, streaming; returns the exit code. */
export async function validateFiles(files: string[], opts: ValidateCliOptions): Promise<number> {
  const out = process.stdout;
  const json = opts.format === "json";
  let passed = 0;
  let failed = 0;
  let unreadable = false;
  let first = true;
  if (json) out.write('{"results":[');

  const emit = (entry: object, text: string | null) => {
    if (json) {
      out.write(`${first ? "" : ","}\n${JSON.stringify(entry)}`);
      first = false;
    } else if (text !== null && !opts.quiet) out.write(`${text}\n`);
  };

  for (const source of files) {
    const progress = byteProgress(inputSize(source), source);
    for await (const rec of readLogs(source, { onBytes: progress.update })) {
      if (rec.error !== undefined) {
        failed++;
        unreadable = true;
        emit({ source, line: rec.line, ok: false, error: rec.error }, `✗ ${where(source, rec.line)}: ${rec.error}`);
        continue;
      }
      const result: ValidationResult = validateSessionLog(rec.value, {
        conformance: opts.conformance,
        strictLabels: opts.strictLabels,
        strict: opts.strict,
      });
      const label = logLabel(source, rec.line, rec.value);
      if (result.ok) passed++;
      else failed++;
      if (json) {
        emit(
          {
            source,
            line: rec.line,
            session_id: (rec.value as { session_id?: unknown })?.session_id ?? null,
            ok: result.ok,
            spec_version: result.specVersion,
            errors: result.errors,
            warnings: result.warnings,
          },
          null,
        );
      } else if (!opts.quiet && (!result.ok || result.warnings.length)) {
        const head = result.ok ? `✓ ${label} (${result.specVersion}) with warnings` : `✗ ${label}`;
        const lines = [
          ...result.errors.map((i) => `    error   ${formatIssue(i)}`),
          ...result.warnings.map((i) => `    warning ${formatIssue(i)}`),
        ];
        out.write(`${head}\n${lines.join("\n")}\n`);
      }
    }
    progress.stop();
  }

  if (json) out.write(`\n],"passed":${passed},"failed":${failed}}\n`);
  else out.write(`${passed} passed, ${failed} failed\n`);
  if (unreadable) return EXIT_USAGE;
  return failed ? EXIT_INVALID : EXIT_OK;
}
