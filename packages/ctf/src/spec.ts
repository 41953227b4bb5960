import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { CTFEventType } from "./types.js";

/**
 * spec/ctf/v0.1 holds the event schemas; code reads them instead of re-typing them.
 * Found through RTT_SPEC_DIR (the folder holding ctf/), or by walking up from this module, which
 * works both from src/ (Vitest) and from dist/ (built package inside the repo).
 */
export function ctfSpecDir(): string {
  const fromEnv = process.env.RTT_SPEC_DIR;
  if (fromEnv) return join(resolve(fromEnv), "ctf", "v0.1");
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, "spec", "ctf", "v0.1");
    if (existsSync(join(candidate, "header.schema.json"))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error("spec/ctf/v0.1 not found: set RTT_SPEC_DIR to the spec/ folder");
    dir = parent;
  }
}

export function readCtfSchema(name: CTFEventType | "corridor_spec"): Record<string, unknown> {
  return JSON.parse(readFileSync(join(ctfSpecDir(), `${name}.schema.json`), "utf8"));
}
