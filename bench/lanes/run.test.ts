import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// bench/lanes/run.mjs at 200 iterations: every row runs (daemon in both SHM modes, raw UDS, SAB, TCP, throughput)
// and the daemon dropped nothing. Needs the built CLI and @rtt/fabric (npm run build), as the bench does.
const script = fileURLToPath(new URL("./run.mjs", import.meta.url));

describe("bench/lanes smoke", () => {
  it("measures every lane through the daemon beside its baselines", () => {
    const out = execFileSync(process.execPath, [script, "--iterations", "200", "--json"], {
      encoding: "utf8",
      timeout: 180_000,
    });
    const r = JSON.parse(out);
    expect(r.iterations).toBe(200);
    const what = r.rows.map((x: { what: string; size?: number }) => `${x.what}${x.size ? ` ${x.size}` : ""}`);
    for (const w of [
      "raw node:net UDS echo (same bytes, baseline) 64",
      "UDS call through the daemon (control path) 64",
      "TCP loopback call through the daemon 64",
      "SHM lane through the daemon (worker) 65536",
      "SHM lane through the daemon (loop) 65536",
      "SharedArrayBuffer ping-pong, worker thread (limit) 65536",
      "throughput UDS (64 in flight) 65536",
      "throughput SHM (loop, 64 in flight) 4096",
    ])
      expect(what).toContain(w);
    for (const row of r.rows) {
      if (row.drops) expect(row.drops).toEqual({});
      else if (row.p50_us !== undefined) expect(row.p50_us).toBeGreaterThan(0);
      else expect(row.frames_per_s).toBeGreaterThan(0);
    }
  }, 200_000);
});
