#!/usr/bin/env node
// rtt-validate.js — the seed's CLI validator (seed 000 §13.1), where the seed's /spec layout puts it:
//
//   node rtt-validate.js your_log.json
//
// It delegates to RTT's validator, so there is one gate with one behaviour (spec/VALIDATION.md): the seed's schema
// (v1 or v2, detected from spec_version), the project's rules as warnings (errors with --strict), the reference
// vectors. It prints the seed's lines — `✅ RTT‑Inside Compatible v1`, `❌ Schema validation failed:`,
// `⚠️ Schema OK, but reference test mismatch:` then the seed's reason wording (`Sample length mismatch: got 2,
// expected 4`) — and exits 0 compatible, 1 usage / unreadable / not JSON, 2 schema failure or reference mismatch
// (the seed's §13.1 exits 1 on a schema failure and its later tools/rtt-validate exits 2; spec/VALIDATION.md says
// why 2).
//
// Which validator: the RTT checkout this file sits in (packages/cli, built with `npm run build`), else
// `rtt-validate` on PATH (`npm link` in packages/cli, as the seed's CI does). Vendored into another repository,
// it therefore needs `rtt-validate` installed there.
//
// One file that runs as written whether the package around it is CommonJS or ESM: no import/require statements,
// no import.meta — only dynamic import(), which both module systems have.

const USAGE = "Usage: rtt-validate <session_log.json>";

async function main() {
  const { spawnSync } = await import("node:child_process");
  const { existsSync, realpathSync } = await import("node:fs");
  const path = await import("node:path");
  const args = process.argv.slice(2);
  if (args.length === 0) {
    console.error(USAGE);
    return 1;
  }
  // This file's own path: argv[1] is the script node was asked to run.
  const here = path.dirname(realpathSync(process.argv[1]));
  const inRepo = path.resolve(here, "..", "..", "packages", "cli", "bin", "rtt-validate.js");
  const [command, prefix] = existsSync(inRepo) ? [process.execPath, [inRepo]] : ["rtt-validate", []];
  const r = spawnSync(command, [...prefix, ...args], { stdio: "inherit" });
  if (r.error) {
    console.error(
      `rtt-validate: cannot run RTT's validator (${r.error.message}); install it (npm link in packages/cli) or run this file from an RTT checkout`,
    );
    return 1;
  }
  return r.status ?? 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error(err);
    process.exitCode = 1;
  },
);
