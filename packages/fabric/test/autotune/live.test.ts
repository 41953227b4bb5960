import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { runAutotune } from "../../src/autotune/engine.js";
import { syntheticLoad } from "../../src/autotune/load.js";
import { readMachine, suggestPinning } from "../../src/autotune/machine.js";
import { profileOf, tunedProfilePath, writeTunedProfile } from "../../src/autotune/profile.js";
import { FabricDaemon } from "../../src/daemon/daemon.js";
import { schemaProblems } from "../../src/schemas.js";
import { RTT } from "../daemon/harness.js";

/**
 * A small live autotune (integration: an echo worker thread from the built package, SHM rings in /dev/shm, the built
 * CLI as a child process). Few trials: it checks the machinery and the profile's path to the daemon, not the gain.
 */
const dir = mkdtempSync(join(tmpdir(), "rtt-autotune-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("autotune, live (integration)", () => {
  it("runs the climb and the confirmation within the trial budget; the daemon loads the profile at start", async () => {
    const seen: number[] = [];
    const r = await runAutotune({
      load: syntheticLoad({ rate: 5000, frames: 500 }),
      trials: 7,
      repeats: 1,
      confirm: 2,
      onTrial: (done, total) => {
        expect(total).toBe(7);
        seen.push(done);
      },
    });
    expect(r.trials_run).toBe(7);
    expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(r.climb.path).toHaveLength(3);
    expect(r.defaults.trials).toHaveLength(2);
    expect(r.tuned.trials).toHaveLength(2);
    for (const t of [...r.defaults.trials, ...r.tuned.trials]) {
      expect(t.lost).toBe(0);
      expect(t.p99_us).toBeGreaterThan(0);
      expect(t.p99_us).toBeGreaterThanOrEqual(t.p50_us);
    }
    const machine = readMachine();
    const p = profileOf(r, machine, suggestPinning(machine));
    expect(schemaProblems("tuned-profile", p)).toEqual([]);

    const root = join(dir, "rtt");
    writeTunedProfile(root, p);
    const logs: string[] = [];
    const d = await FabricDaemon.start({ root, auth: "none", log: (l) => logs.push(l) });
    try {
      expect(d.status().tuned).toMatchObject({
        state: "loaded",
        key: p.key,
        applied: { spinMicros: p.params.spin_us, shmCapacity: p.params.ring_bytes },
        refused: 0,
      });
      expect(logs.join("\n")).toMatch(/tuned profile .*profile\.json: spin/);
    } finally {
      await d.stop();
    }
  }, 120_000);

  it("rtt autotune --apply writes the profile; rtt fabric status refusal path: a foreign profile → defaults", async () => {
    const root = join(dir, "cli");
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      [
        RTT,
        "autotune",
        "--rate",
        "5000",
        "--trials",
        "7",
        "--repeats",
        "1",
        "--confirm",
        "2",
        "--json",
        "--apply",
        "--root",
        root,
      ],
      { timeout: 120_000 },
    );
    const out = JSON.parse(stdout) as { written: string; profile: { key: string; result: { trials: number } } };
    expect(out.written).toBe(tunedProfilePath(root));
    expect(out.profile.result.trials).toBe(7);
    expect(stderr).toMatch(/autotune: trial 7\/7/);
    const onDisk = JSON.parse(readFileSync(tunedProfilePath(root), "utf8"));
    expect(onDisk.key).toBe(out.profile.key);

    // The same file from "another machine": refused at start, counted, the defaults in force.
    onDisk.machine = { cpu_model: "Some Other CPU", cpus: 96, numa: [{ node: 0, cpus: [0, 1] }] };
    const { machineKey } = await import("../../src/autotune/machine.js");
    onDisk.key = machineKey(onDisk.machine);
    writeTunedProfile(root, onDisk);
    const d = await FabricDaemon.start({ root, auth: "none" });
    try {
      expect(d.status().tuned).toMatchObject({
        state: "refused",
        refused: 1,
        error: { code: "RTT_FABRIC_TUNED_FOREIGN" },
      });
    } finally {
      await d.stop();
    }
  }, 180_000);
});
