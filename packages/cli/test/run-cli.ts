import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const BIN = (name: string) => fileURLToPath(new URL(`../dist/bin/${name}.js`, import.meta.url));
export const RTT_BIN = BIN("rtt");

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a built CLI binary as a child process, as a user would. `npm test` builds first (pretest). */
export function cli(bin: "rtt" | "rtt-validate", args: string[], input?: string, cwd = ROOT): CliResult {
  const path = BIN(bin);
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`npm run build\` first`);
  const r = spawnSync(process.execPath, [path, ...args], { input, cwd, encoding: "utf8", timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
