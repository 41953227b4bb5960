import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli, RTT_BIN } from "./run-cli.js";

// `rtt fabric up | status` and `rtt call` as a user runs them (the built CLI).
const dir = mkdtempSync(join(tmpdir(), "rtt-fabric-cli-"));
const root = join(dir, ".rtt");
mkdirSync(join(root, "fabric"), { recursive: true });
writeFileSync(
  join(root, "fabric", "routes.json"),
  JSON.stringify({
    plan_id: "sha256:cli",
    routes: [{ route_id: 7, from: "rtt://ui/hook/refresh", to: "rtt://core/api/metrics", lane: "shm" }],
  }),
);
writeFileSync(
  join(root, "drivers.json"),
  JSON.stringify({ "rtt://core/api/metrics": { builtin: "echo", info: true } }),
);
let up: ChildProcess;
let exited: Promise<number | null>;
beforeAll(async () => {
  up = spawn(process.execPath, [RTT_BIN, "fabric", "up", "--root", root, "--no-auth", "--tcp", "127.0.0.1:0"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  exited = new Promise<number | null>((r) => up.once("exit", r));
  let out = "";
  let err = "";
  up.stderr?.on("data", (c: Buffer) => {
    err += c.toString();
  });
  await new Promise<void>((resolve, reject) => {
    up.once("exit", (code) => reject(new Error(`rtt fabric up exited ${code}: ${err}`)));
    up.stdout?.on("data", (c: Buffer) => {
      out += c.toString();
      if (out.includes("fabric up:")) resolve();
    });
  });
});
afterAll(async () => {
  up.kill("SIGTERM");
  await exited;
  rmSync(dir, { recursive: true, force: true });
});
const rtt = (...args: string[]) => cli("rtt", [...args, "--root", root]);

describe("rtt fabric (CLI)", () => {
  it("calls a symbol over each lane and prints the answer", () => {
    for (const lane of ["uds", "tcp", "shm"]) {
      const r = rtt(
        "call",
        "rtt://ui/hook/refresh",
        "--json",
        `{"lane":"${lane}"}`,
        "--lane",
        lane,
        "--timeout",
        "5000",
      );
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual({ endpoint: "rtt://core/api/metrics", request: { lane } });
    }
  });

  it("refuses what it cannot do with its exit codes", () => {
    expect(rtt("call", "rtt://nowhere", "--json", "1")).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/no route/),
    });
    expect(rtt("call", "rtt://ui/hook/refresh", "--json", "{bad")).toMatchObject({ code: 1 });
    expect(cli("rtt", ["fabric", "status", "--root", join(dir, "elsewhere")])).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/no fabric daemon answers/),
    });
    expect(cli("rtt", ["fabric", "up", "--root", root, "--tcp", "0.0.0.0:0"])).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/not loopback/),
    });
  });

  it("reports routes, counters, lanes and drivers", () => {
    const s = JSON.parse(rtt("fabric", "status", "--json").stdout);
    expect(s.plan_id).toBe("sha256:cli");
    expect(s.routes[0]).toMatchObject({ route_id: 7, healthy: true, calls: 3, ok: 3, errors: 0 });
    expect(s.lanes.uds.connections).toBeGreaterThan(0);
    expect(s.lanes.shm.lanes).toBe(1);
    expect(s.drivers[0]).toMatchObject({ symbol: "rtt://core/api/metrics", kind: "builtin", healthy: true });
    const text = rtt("fabric", "status").stdout;
    expect(text).toMatch(/7 rtt:\/\/ui\/hook\/refresh -> rtt:\/\/core\/api\/metrics \[shm\] healthy calls 3/);
    expect(text).toMatch(/drops: no_route 1|drops: none/);
  });
});
