import { existsSync } from "node:fs";
import { copyFile, mkdir, readdir, readFile, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseCTFText } from "@rtt/ctf";
import type { TraceStore } from "./store.js";

/** examples/agent/traces in the repository, found by walking up from this module (src/ or dist/). */
export function exampleTracesDir(): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, "examples", "agent", "traces");
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

/**
 * Copies the example agent's traces into `${dataDir}/ctf/` for `rtt serve --demo`; existing files are
 * left alone (the store is append-only). Returns the ids copied.
 */
export async function seedDemoTraces(dataDir: string, sourceDir = exampleTracesDir()): Promise<string[]> {
  if (!sourceDir) return [];
  const target = join(dataDir, "ctf");
  await mkdir(target, { recursive: true });
  const copied: string[] = [];
  for (const name of (await readdir(sourceDir)).filter((n) => n.endsWith(".ctf")).sort()) {
    const dest = join(target, name);
    if (
      await stat(dest).then(
        () => true,
        () => false,
      )
    )
      continue;
    await copyFile(join(sourceDir, name), dest);
    copied.push(name.slice(0, -4));
  }
  return copied;
}

/** seedDemoTraces into a database store (`rtt serve --demo --db postgres://…`): traces already there are left alone. */
export async function seedDemoTracesInto(store: TraceStore, sourceDir = exampleTracesDir()): Promise<string[]> {
  if (!sourceDir) return [];
  const copied: string[] = [];
  for (const name of (await readdir(sourceDir)).filter((n) => n.endsWith(".ctf")).sort()) {
    const text = await readFile(join(sourceDir, name), "utf8");
    let events = 0;
    parseCTFText(text, (l) => {
      if (!l.issue) events++;
    });
    if (await store.create(name.slice(0, -4), text, events)) copied.push(name.slice(0, -4));
  }
  return copied;
}
