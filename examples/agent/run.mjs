#!/usr/bin/env node
// Regenerates the example traces: `node examples/agent/run.mjs [outDir]` (needs `npm run build` for @rtt/ctf).
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { CTFWriter } from "@rtt/ctf";
import { runAgent, SCENARIOS } from "./agent.mjs";

const outDir = process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), "traces");
mkdirSync(outDir, { recursive: true });
for (const scenario of Object.keys(SCENARIOS)) {
  const path = join(outDir, `boiling-point-${scenario}.ctf`);
  // The footer timestamp comes from the corridor's own fake clock, so the file is byte-identical each run.
  const status = runAgent({ writer: new CTFWriter(path), scenario });
  console.log(`${path}: final status ${status}`);
}
