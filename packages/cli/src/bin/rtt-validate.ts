#!/usr/bin/env node
/**
 * The seed's conformance gate: schema + reference vectors for one session log.
 * Exit 0 compatible, 1 usage / unreadable / not JSON, 2 schema failure or reference mismatch.
 * (The seed gives 1 for a schema failure in §13.1 and 2 in tools/rtt-validate/index.js; 2 is kept: see
 * spec/VALIDATION.md.) The project's rules beyond the seed are printed as warnings and do not fail the log,
 * unless --strict.
 */
import { readFileSync } from "node:fs";
import { formatIssue, validateSessionLog } from "@rtt/core";
import { EXIT_INVALID, EXIT_OK, EXIT_USAGE } from "../lib/exit.js";

const USAGE = "Usage: rtt-validate [--strict] <session_log.json>\n";

function main(argv: string[]): number {
  const strict = argv.includes("--strict");
  const rest = argv.filter((a) => a !== "--strict");
  const file = rest[0];
  if (!file || file === "-h" || file === "--help" || rest.length > 1) {
    process.stderr.write(USAGE);
    return file === "-h" || file === "--help" ? EXIT_OK : EXIT_USAGE;
  }
  let log: unknown;
  try {
    log = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    process.stderr.write(`❌ ${file}: ${e.code ? `cannot read (${e.code})` : `not JSON: ${e.message}`}\n`);
    return EXIT_USAGE;
  }
  // One staging for every tool (core's validateSessionLog): the seed's schema, the project's rules, the reference.
  const result = validateSessionLog(log, { conformance: true, strict });
  const lines = (issues: typeof result.errors) => issues.map((i) => `  ${formatIssue(i)}`).join("\n");
  const stage = (code: string) =>
    code.startsWith("SCHEMA_") || code === "NOT_AN_OBJECT" || code === "SPEC_VERSION_UNKNOWN"
      ? "schema"
      : code.startsWith("REF_")
        ? "reference"
        : "rules";
  if (result.warnings.length)
    process.stderr.write(`⚠️ Warnings (rules beyond the seed's; errors with --strict):\n${lines(result.warnings)}\n`);
  if (!result.ok) {
    const schema = result.errors.filter((e) => stage(e.code) === "schema");
    const rules = result.errors.filter((e) => stage(e.code) === "rules");
    const reference = result.errors.filter((e) => stage(e.code) === "reference");
    if (schema.length) process.stderr.write(`❌ Schema validation failed:\n${lines(schema)}\n`);
    if (rules.length) process.stderr.write(`❌ Strict validation failed (--strict):\n${lines(rules)}\n`);
    if (reference.length) {
      // The seed's lines: the banner, then each reason in the seed validator's words (then where, and the code).
      process.stderr.write(
        `⚠️ Schema OK, but reference test mismatch:\n${reference.map((i) => `${i.message} (${i.path || "/"} [${i.code}])`).join("\n")}\n`,
      );
    }
    return EXIT_INVALID;
  }
  process.stdout.write(`✅ RTT‑Inside Compatible ${result.specVersion}\n`);
  return EXIT_OK;
}

process.exitCode = main(process.argv.slice(2));
