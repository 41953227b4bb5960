#!/usr/bin/env node
/**
 * The seed's conformance gate: schema + reference vectors for one session log.
 * Exit 0 compatible, 1 usage / unreadable / not JSON, 2 schema failure or reference mismatch.
 */
import { readFileSync } from "node:fs";
import {
  checkReference,
  checkSemantics,
  detectSpecVersion,
  formatIssue,
  type SessionLog,
  validateSchema,
} from "@rtt/core";
import { EXIT_INVALID, EXIT_OK, EXIT_USAGE } from "../lib/exit.js";

function main(argv: string[]): number {
  const file = argv[0];
  if (!file || file === "-h" || file === "--help" || argv.length > 1) {
    process.stderr.write("Usage: rtt-validate <session_log.json>\n");
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
  const detected = detectSpecVersion(log);
  if ("issue" in detected) {
    process.stderr.write(`❌ Schema validation failed:\n  ${formatIssue(detected.issue)}\n`);
    return EXIT_INVALID;
  }
  const schemaErrors = validateSchema(log, detected.version);
  if (schemaErrors.length) {
    process.stderr.write(
      `❌ Schema validation failed:\n${schemaErrors.map((i) => `  ${formatIssue(i)}`).join("\n")}\n`,
    );
    return EXIT_INVALID;
  }
  const semantic = checkSemantics(log as SessionLog).errors;
  if (semantic.length) {
    process.stderr.write(`❌ Semantic validation failed:\n${semantic.map((i) => `  ${formatIssue(i)}`).join("\n")}\n`);
    return EXIT_INVALID;
  }
  const reference = checkReference(log as SessionLog);
  if (reference.length) {
    process.stderr.write(
      `⚠️ Schema OK, but reference test mismatch:\n${reference.map((i) => `  ${formatIssue(i)}`).join("\n")}\n`,
    );
    return EXIT_INVALID;
  }
  process.stdout.write(`✅ RTT‑Inside Compatible ${detected.version}\n`);
  return EXIT_OK;
}

process.exitCode = main(process.argv.slice(2));
