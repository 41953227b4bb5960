import { formatIssue, type SessionLogV1, upgradeV1ToV2, validateSessionLog } from "@rtt/core";
import type { Command } from "commander";
import { CliExit, EXIT_INVALID, EXIT_USAGE } from "../lib/exit.js";
import { readLogs } from "../lib/read-logs.js";

export function register(program: Command): void {
  program
    .command("upgrade")
    .description(
      "Upgrade v1 session logs to v2 (deterministic, lossless; spec/v2/adapter_v1_to_v2.md). Writes v2 to stdout; NDJSON in → NDJSON out.",
    )
    .argument("<file>", "a v1 session log (.json or .ndjson), or - for stdin")
    .action(async (file: string) => {
      let count = 0;
      const out: string[] = [];
      for await (const rec of readLogs(file)) {
        if (rec.error !== undefined) throw new CliExit(EXIT_USAGE, `${file}:${rec.line}: ${rec.error}`);
        const result = validateSessionLog(rec.value);
        const where = `${file}:${rec.line}`;
        if (!result.ok) {
          throw new CliExit(
            EXIT_INVALID,
            `${where}: not a valid session log:\n${result.errors.map((i) => `  ${formatIssue(i)}`).join("\n")}`,
          );
        }
        if (result.specVersion === "v2")
          throw new CliExit(EXIT_USAGE, `${where}: already a v2 log (spec_version "v2")`);
        out.push(JSON.stringify(upgradeV1ToV2(rec.value as SessionLogV1)));
        count++;
      }
      // One log → pretty JSON like the input; many → NDJSON, one per line.
      const [only] = out;
      process.stdout.write(
        count === 1 && only !== undefined ? `${JSON.stringify(JSON.parse(only), null, 2)}\n` : `${out.join("\n")}\n`,
      );
    });
}
