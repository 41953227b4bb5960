#!/usr/bin/env node
import { Command, CommanderError } from "commander";
import { registerAll } from "../commands/index.js";
import { CliExit, EXIT_USAGE, exitQuietlyWhenStdoutCloses } from "../lib/exit.js";
import { isFabricError } from "../lib/fabric-error.js";
import { VERSION } from "../lib/version.js";

const program = new Command("rtt")
  .description("RTT: run, validate, store, replay and compare corridor runs (RTT-Inside session logs, CTF traces).")
  .version(VERSION)
  .showHelpAfterError("(run with --help for usage)")
  .exitOverride();

exitQuietlyWhenStdoutCloses();
try {
  await registerAll(program, process.argv.slice(2));
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // Commander already printed help/version or the usage error.
    process.exitCode = err.exitCode === 0 ? 0 : EXIT_USAGE;
  } else if (err instanceof CliExit) {
    if (err.message) process.stderr.write(`rtt: ${err.message}\n`);
    process.exitCode = err.code;
  } else if (isFabricError(err)) {
    // The fabric's errors name the file or object and carry their exit code (@rtt/fabric errors.ts).
    process.stderr.write(`rtt: ${err.message}\n`);
    process.exitCode = err.exitCode;
  } else {
    process.stderr.write(`rtt: ${(err as Error).message}\n`);
    process.exitCode = EXIT_USAGE;
  }
}
