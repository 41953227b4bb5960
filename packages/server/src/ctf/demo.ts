import { existsSync } from "node:fs";
import { copyFile, mkdir, readdir, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

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
