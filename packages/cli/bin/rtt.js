#!/usr/bin/env node
// Committed (unlike dist/) so that npm links `rtt` into node_modules/.bin at install time, before the build:
// `npx rtt …` from the repository root. It runs the built command.
import { existsSync } from "node:fs";

const built = new URL("../dist/bin/rtt.js", import.meta.url);
if (!existsSync(built)) {
  process.stderr.write("rtt: not built yet; run `npm run build` (or `npm run demo`) at the repository root\n");
  process.exit(1);
}
await import(built.href);
