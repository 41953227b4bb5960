import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { defaultParams } from "../../src/autotune/engine.js";
import { loadFromFlight } from "../../src/autotune/load.js";
import {
  formatCpuList,
  type MachineInfo,
  machineKey,
  parseCpuList,
  readMachine,
  suggestPinning,
} from "../../src/autotune/machine.js";
import {
  readTunedProfile,
  type TunedProfile,
  tunedDaemonOptions,
  tunedProfilePath,
  writeTunedProfile,
} from "../../src/autotune/profile.js";
import type { TuneParams } from "../../src/autotune/trial.js";
import type { DaemonOptions } from "../../src/daemon/daemon.js";
import { isFabricError } from "../../src/errors.js";
import { schemaProblems } from "../../src/schemas.js";

const dir = mkdtempSync(join(tmpdir(), "rtt-tuned-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const here: MachineInfo = { cpu_model: "AMD EPYC", cpus: 2, numa: [{ node: 0, cpus: [0, 1] }] };
const other: MachineInfo = {
  cpu_model: "Intel(R) Xeon(R) Gold 6338",
  cpus: 64,
  numa: [
    { node: 0, cpus: Array.from({ length: 32 }, (_, i) => i) },
    { node: 1, cpus: Array.from({ length: 32 }, (_, i) => i + 32) },
  ],
};

function profile(
  m: MachineInfo,
  params: TuneParams = { ring_slots: 1024, ring_bytes: 524288, batch_window_us: 50, spin_us: 20 },
) {
  const p: TunedProfile = {
    format: "rtt-tuned/1",
    key: machineKey(m),
    machine: m,
    created: "2026-01-01T00:00:00.000Z",
    params,
    pinning: suggestPinning(
      m,
      m.numa.flatMap((n) => n.cpus),
    ),
    load: {
      source: "synthetic",
      rate_hz: 10000,
      frames: 2500,
      routes: [{ route_id: 1, share: 1, payload_bytes: 256 }],
    },
    result: {
      seed: 4,
      trials: 48,
      repeats: 3,
      stopped: "optimum",
      kept: "tuned",
      p99_gain_pct: 12.5,
      defaults: { p50_us: 20, p99_us: 200, throughput_hz: 10000, noise_pct: 40 },
      tuned: { p50_us: 18, p99_us: 175, throughput_hz: 10000, noise_pct: 30 },
    },
  };
  return p;
}

const rootWith = (name: string, content: string | TunedProfile) => {
  const root = join(dir, name);
  mkdirSync(join(root, "tuned"), { recursive: true });
  writeFileSync(tunedProfilePath(root), typeof content === "string" ? content : JSON.stringify(content));
  return root;
};

const codeOf = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    if (isFabricError(e)) return e.code;
    throw e;
  }
  return "none";
};

describe("tuned profile: schema and keying", () => {
  it("a profile is valid against spec/fabric/tuned-profile.schema.json and round-trips through the file", () => {
    const p = profile(here);
    expect(schemaProblems("tuned-profile", p)).toEqual([]);
    const root = join(dir, "ok");
    const path = writeTunedProfile(root, p);
    expect(path).toBe(join(root, "tuned", "profile.json"));
    expect(readTunedProfile(path, here)).toEqual(p);
  });

  it("the key is the CPU model plus the NUMA topology: stable, order-free, and different for either change", () => {
    const k = machineKey(here);
    expect(k).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(machineKey({ ...here, numa: [{ node: 0, cpus: [1, 0] }] })).toBe(k);
    expect(machineKey({ ...here, cpu_model: "AMD EPYC 7B13" })).not.toBe(k);
    expect(
      machineKey({
        ...here,
        numa: [
          { node: 0, cpus: [0] },
          { node: 1, cpus: [1] },
        ],
      }),
    ).not.toBe(k);
  });

  it("this machine reads: a model and at least one NUMA node with its CPUs", () => {
    const m = readMachine();
    expect(m.cpu_model.length).toBeGreaterThan(0);
    expect(m.numa.length).toBeGreaterThan(0);
    expect(m.cpus).toBeGreaterThan(0);
  });

  it("CPU lists parse and format as Linux writes them", () => {
    expect(parseCpuList("0-3,8,10-11\n")).toEqual([0, 1, 2, 3, 8, 10, 11]);
    expect(formatCpuList([11, 0, 1, 2, 3, 8, 10])).toBe("0-3,8,10-11");
    expect(parseCpuList("")).toEqual([]);
  });

  it("pinning: none on two CPUs; on two NUMA nodes, daemon and drivers on one node, disjoint CPUs", () => {
    expect(suggestPinning(here, [0, 1]).commands).toEqual([]);
    const s = suggestPinning(
      other,
      other.numa.flatMap((n) => n.cpus),
    );
    expect(s.node).toBe(0);
    expect(s.daemon_cpus).toBe("0-1");
    expect(s.driver_cpus).toBe("2-31");
    expect(s.commands[0]).toBe("taskset -c 0-1 rtt fabric up");
    // Only node 1 allowed (a cpuset): the suggestion moves there.
    expect(suggestPinning(other, [40, 41, 42, 43]).node).toBe(1);
  });
});

describe("tuned profile: refusals", () => {
  it("refuses bytes that are not JSON, a schema break, a bad ring size, an edited machine and a foreign machine", () => {
    expect(codeOf(() => readTunedProfile(tunedProfilePath(rootWith("nj", "{not json")), here))).toBe(
      "RTT_FABRIC_NOT_JSON",
    );
    const noKey = { ...profile(here), key: undefined };
    expect(codeOf(() => readTunedProfile(tunedProfilePath(rootWith("nokey", JSON.stringify(noKey))), here))).toBe(
      "RTT_FABRIC_INVALID",
    );
    const bad = profile(here, { ring_slots: 1, ring_bytes: 5000, batch_window_us: 0, spin_us: 0 });
    expect(codeOf(() => readTunedProfile(tunedProfilePath(rootWith("ring", bad)), here))).toBe("RTT_FABRIC_INVALID");
    const edited = { ...profile(here), machine: { ...here, cpus: 4 } };
    expect(codeOf(() => readTunedProfile(tunedProfilePath(rootWith("edited", edited)), here))).toBe(
      "RTT_FABRIC_INVALID",
    );
    expect(codeOf(() => readTunedProfile(tunedProfilePath(rootWith("foreign", profile(other))), here))).toBe(
      "RTT_FABRIC_TUNED_FOREIGN",
    );
  });

  it("the daemon's hook: no profile → nothing; a good one fills spin and ring size unless given; a bad one → defaults, counted, logged", () => {
    const none = tunedDaemonOptions({ root: join(dir, "empty") }, here);
    expect(none.tuned).toMatchObject({ state: "none", refused: 0 });

    const good = rootWith("good", profile(here));
    const a = tunedDaemonOptions({ root: good }, here);
    expect(a.opts).toMatchObject({ spinMicros: 20, shmCapacity: 524288 });
    expect(a.tuned).toMatchObject({ state: "loaded", applied: { spinMicros: 20, shmCapacity: 524288 }, refused: 0 });
    const b = tunedDaemonOptions({ root: good, spinMicros: 7 }, here);
    expect(b.opts.spinMicros).toBe(7);
    expect(b.tuned.applied).toEqual({ shmCapacity: 524288 });

    const logs: string[] = [];
    const foreign = rootWith("foreign2", profile(other));
    const c = tunedDaemonOptions<DaemonOptions>({ root: foreign, log: (l) => logs.push(l) }, here);
    expect(c.opts.spinMicros).toBeUndefined();
    expect(c.opts.shmCapacity).toBeUndefined();
    expect(c.tuned).toMatchObject({ state: "refused", refused: 1, error: { code: "RTT_FABRIC_TUNED_FOREIGN" } });
    expect(logs[0]).toMatch(/tuned profile REFUSED \(RTT_FABRIC_TUNED_FOREIGN\).*Intel.*run rtt autotune here/);

    const corrupt = rootWith("corrupt", '{"format": "rtt-tuned/1", "key"');
    expect(tunedDaemonOptions({ root: corrupt }, here).tuned).toMatchObject({
      state: "refused",
      error: { code: "RTT_FABRIC_NOT_JSON" },
    });
  });

  it("the defaults as a profile's params are valid too", () => {
    expect(schemaProblems("tuned-profile", profile(here, defaultParams()))).toEqual([]);
  });
});

describe("trace input: a flight recording", () => {
  const header = { type: "header", format: "rtt-flight/1", window_ms: 2000, interval_ms: 1000 };
  const route = (seq: number, route_id: number, calls: number) => ({ type: "route", seq, route_id, calls });
  const proc = (seq: number, bytes: number) => ({
    type: "process",
    seq,
    interval_ms: 1000,
    io_bytes: { read: bytes / 2, write: bytes / 2 },
  });
  const ndjson = (lines: unknown[]) => lines.map((l) => JSON.stringify(l)).join("\n");

  it("per-route rates over the window and one size from the daemon's I/O bytes", () => {
    const { load, notes } = loadFromFlight(
      ndjson([
        header,
        route(0, 1, 3000),
        route(0, 2, 1000),
        proc(0, 4000 * 2 * 512),
        route(1, 1, 3000),
        route(1, 2, 1000),
        proc(1, 4000 * 2 * 512),
        { type: "footer" },
      ]),
      "f.ndjson",
    );
    expect(notes).toEqual([]);
    expect(load).toMatchObject({ source: "flight", from: "f.ndjson", rate_hz: 4000, frames: 1000 });
    expect(load.routes).toEqual([
      { route_id: 1, share: 0.75, payload_bytes: 512 },
      { route_id: 2, share: 0.25, payload_bytes: 512 },
    ]);
  });

  it("clamps a slow recording's rate (said in a note) and refuses one with no calls or no header", () => {
    const slow = loadFromFlight(ndjson([header, route(0, 1, 10), proc(0, 0), proc(1, 0)]), "s");
    expect(slow.load.rate_hz).toBe(100);
    expect(slow.notes.join(" ")).toMatch(/replayed at 100\/s/);
    expect(codeOf(() => loadFromFlight(ndjson([header, route(0, 1, 0), proc(0, 0)]), "z"))).toBe("RTT_FABRIC_INVALID");
    expect(codeOf(() => loadFromFlight(ndjson([route(0, 1, 5)]), "h"))).toBe("RTT_FABRIC_INVALID");
    expect(codeOf(() => loadFromFlight("{oops", "j"))).toBe("RTT_FABRIC_NOT_JSON");
  });
});
