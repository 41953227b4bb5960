import { join, relative } from "node:path";
import { DEFAULT_KEY_NAME, DEFAULT_KEYS_DIR, fabricPaths } from "@rtt/fabric";
import { describe, expect, it } from "vitest";
import { FABRIC_DEFAULTS } from "../src/lib/fabric.js";

// The CLI's option defaults are plain strings so that `rtt` need not load @rtt/fabric to register its commands;
// they must name the same files as the fabric's own defaults.
describe("FABRIC_DEFAULTS", () => {
  it("names the paths fabricPaths() resolves, relative to the working directory", () => {
    const p = fabricPaths();
    const rel = (abs: string) => relative(process.cwd(), abs);
    expect(FABRIC_DEFAULTS.root).toBe(rel(p.root));
    expect(FABRIC_DEFAULTS.registry).toBe(rel(p.registry));
    expect(FABRIC_DEFAULTS.wal).toBe(rel(p.wal));
  });

  it("names the default signing key", () => {
    expect(FABRIC_DEFAULTS.keys).toBe(DEFAULT_KEYS_DIR);
    expect(FABRIC_DEFAULTS.keyName).toBe(DEFAULT_KEY_NAME);
    expect(FABRIC_DEFAULTS.key).toBe(join(DEFAULT_KEYS_DIR, `${DEFAULT_KEY_NAME}.key`));
  });
});
