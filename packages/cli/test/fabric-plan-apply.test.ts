import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type CrashPoint,
  generateKeyPair,
  type Plan,
  PlanLog,
  prettyJson,
  Reconciler,
  readTable,
  reconcilePaths,
  sameTable,
  trustKey,
  writeKeyPair,
} from "@rtt/fabric";
import { afterAll, describe, expect, it } from "vitest";
import { makePlan, routes } from "../../fabric/test/reconcile/plans.js";
import { RTT_BIN } from "./run-cli.js";

const dir = mkdtempSync(join(tmpdir(), "rtt-cli-plan-apply-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

/** A fresh working folder with its .rtt; plan files are written beside .rtt. */
function fresh() {
  const cwd = join(dir, `w${++n}`);
  mkdirSync(cwd, { recursive: true });
  const paths = reconcilePaths(join(cwd, ".rtt"));
  const file = (name: string, plan: unknown) => {
    writeFileSync(join(cwd, name), typeof plan === "string" ? plan : prettyJson(plan));
    return name;
  };
  const rtt = (args: string[], env: Record<string, string> = {}) => {
    const r = spawnSync(process.execPath, [RTT_BIN, ...args], {
      cwd,
      encoding: "utf8",
      timeout: 60_000,
      env: { ...process.env, ...env },
    });
    return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
  };
  return { cwd, paths, file, rtt };
}

const inForce = (paths: ReturnType<typeof reconcilePaths>) => {
  const log = PlanLog.open(paths.wal, { readOnly: true });
  try {
    return { current: log.state.current, pending: log.state.pending?.plan_id ?? null, records: log.wal.size };
  } finally {
    log.close();
  }
};

describe("rtt plan apply | status | rollback", () => {
  it("applies, reports status, rolls back, and refuses a stale plan", () => {
    const { paths, file, rtt } = fresh();
    const p1 = makePlan(null, routes(3));
    const p2 = makePlan(p1, routes(4));
    const p3 = makePlan(p2, routes(5));
    const a = rtt(["plan", "apply", file("p1.json", p1)]);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout).toContain(`${p1.plan_id}: committed — 3 routes (+3 -0) over none`);
    expect(a.stderr).toContain("warning: p1.json: no sign member");
    expect(readTable(paths.table)).toEqual({ plan_id: p1.plan_id, routes: p1.routes });
    expect(rtt(["plan", "apply", file("p2.json", p2)]).code).toBe(0);

    const s = rtt(["plan", "status", "--json"]);
    expect(s.code, s.stderr).toBe(0);
    expect(JSON.parse(s.stdout)).toMatchObject({ current: p2.plan_id, routes: 4, commits: 2, pending: null });

    const rb = rtt(["plan", "rollback", "--reason", "p99 regression"]);
    expect(rb.code, rb.stderr).toBe(0);
    expect(rb.stdout).toContain(`rolled back ${p2.plan_id} -> ${p1.plan_id} (3 routes`);
    const text = rtt(["plan", "status"]);
    expect(text.stdout).toContain(`plan in force: ${p1.plan_id} (3 routes); 2 commits in 5 WAL records`);
    expect(text.stdout).toContain("participant local: in sync");
    expect(text.stdout).toMatch(/5 rollback\s+sha256:\S+ -> sha256:\S+ \(p99 regression\)/);

    const stale = rtt(["plan", "apply", file("p3.json", p3)]);
    expect(stale.code).toBe(2);
    expect(stale.stderr).toContain(`computed against ${p2.plan_id}, in force is ${p1.plan_id}`);
    const again = rtt(["plan", "rollback", "--to", p2.plan_id, "--json"]);
    expect(JSON.parse(again.stdout)).toMatchObject({ from: p1.plan_id, to: p2.plan_id });
    expect(rtt(["plan", "apply", "p3.json"]).code).toBe(0);
    expect(rtt(["wal", "verify"]).code).toBe(0);
  });

  it("bad input: a tampered or unsigned-under-strict plan, a held lock, a flipped WAL byte — nothing changes", async () => {
    const { cwd, paths, file, rtt } = fresh();
    const keys = generateKeyPair();
    const w = writeKeyPair(keys, join(cwd, ".rtt", "keys"), "ci");
    trustKey(paths.registry, w.publicKeyFile);
    const { signDocument } = await import("@rtt/fabric");
    const p1 = signDocument(makePlan(null, routes(2)), keys.privateKey) as Plan;
    const text = prettyJson(p1);
    const tampered = rtt(["plan", "apply", file("t.json", text.replace("rtt://svc/t2", "rtt://svc/t9"))]);
    expect(tampered.code).toBe(2);
    expect(tampered.stderr).toContain("t.json: plan_id");
    expect(tampered.stderr).toContain("does not match the content");
    const strict = rtt(["plan", "apply", "--strict", file("u.json", makePlan(null, routes(2)))]);
    expect(strict.code).toBe(2);
    expect(strict.stderr).toContain("unsigned (strict mode)");
    expect(existsSync(paths.wal)).toBe(false);

    const dry = rtt(["plan", "apply", "--dry-run", "--strict", file("p1.json", p1)]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain("dry run ok");
    expect(existsSync(paths.table)).toBe(false);

    const holder = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], { stdio: "ignore" });
    try {
      writeFileSync(paths.lock, `${holder.pid}\n`);
      const busy = rtt(["plan", "apply", "p1.json"]);
      expect(busy.code).toBe(1);
      expect(busy.stderr).toContain(`fabric.lock: another apply (pid ${holder.pid}) is running`);
      expect(rtt(["plan", "status"]).stdout).toContain(`lock: held by pid ${holder.pid}`);
      // The WAL has one writer: a checkpoint waits its turn too.
      const cp = rtt(["wal", "checkpoint"]);
      expect(cp.code).toBe(1);
      expect(cp.stderr).toContain("another apply");
    } finally {
      holder.kill("SIGKILL");
      rmSync(paths.lock);
    }
    expect(rtt(["plan", "apply", "--strict", "p1.json"]).code).toBe(0);
    expect(rtt(["plan", "apply", file("p2.json", makePlan(p1, routes(3)))]).code).toBe(0);
    const buf = readFileSync(paths.wal);
    const log = PlanLog.open(paths.wal, { readOnly: true });
    const at = log.wal.record(1).offset + 50;
    log.close();
    buf[at] = (buf[at] as number) ^ 0x40;
    writeFileSync(paths.wal, buf);
    const table = readFileSync(paths.table);
    const corrupt = rtt(["plan", "apply", file("p3.json", makePlan(makePlan(p1, routes(3)), routes(4)))]);
    expect(corrupt.code).toBe(2);
    expect(corrupt.stderr).toMatch(/fabric\.wal: record 2 at offset \d+: CRC mismatch/);
    expect(readFileSync(paths.wal)).toEqual(buf);
    expect(readFileSync(paths.table)).toEqual(table);
  });
});

describe("rtt plan build | apply | status | rollback on the planner's inputs", () => {
  it("a signed plan built from .rtt applies under --strict --check-inputs; the next build starts from it; changed inputs are stale", () => {
    const { cwd, paths, rtt } = fresh();
    const A = "rtt://ui/hook/refresh";
    const B = "rtt://core/api/metrics";
    const C = "rtt://core/api/health";
    const rtx = join(cwd, ".rtt");
    mkdirSync(join(rtx, "manifests"), { recursive: true });
    writeFileSync(
      join(rtx, "topology.json"),
      JSON.stringify({ nodes: [{ id: "node0", cpu: 4, memory_mb: 4096, numa: 0 }], numa_distance: [[10]] }),
    );
    writeFileSync(
      join(rtx, "manifests", "core.json"),
      JSON.stringify({
        manifest: "core",
        version: "2.3.0",
        symbols: [
          { symbol: A, role: "consumes", qos: { cpu: 1 } },
          { symbol: B, version: "2.3.0", qos: { cpu: 1 } },
          { symbol: C, version: "2.3.0", qos: { cpu: 1 } },
        ],
      }),
    );
    const routesFile = join(rtx, "routes.json");
    writeFileSync(routesFile, JSON.stringify({ routes: [{ from: A, to: B }] }));
    expect(rtt(["keys", "gen", "--name", "ci", "--trust"]).code).toBe(0);
    const key = join(".rtt", "keys", "ci.key");

    const b1 = rtt(["plan", "build", "--sign", key, "--out", "p1.json"]);
    expect(b1.code, b1.stderr).toBe(0);
    const a1 = rtt(["plan", "apply", "p1.json", "--strict", "--check-inputs"]);
    expect(a1.code, a1.stderr).toBe(0);
    expect(a1.stdout).toContain("committed — 1 routes (+1 -0) over none");
    const p1 = JSON.parse(readFileSync(join(cwd, "p1.json"), "utf8")) as Plan;

    writeFileSync(
      routesFile,
      JSON.stringify({
        routes: [
          { from: A, to: B },
          { from: A, to: C },
        ],
      }),
    );
    expect(rtt(["plan", "build", "--sign", key, "--out", "p2.json"]).code).toBe(0);
    const p2 = JSON.parse(readFileSync(join(cwd, "p2.json"), "utf8")) as Plan;
    expect(p2.inputs.base).toBe(p1.plan_id);
    expect(p2.routes_add).toHaveLength(1);
    expect(p2.routes.find((r) => r.to === B)?.route_id).toBe(p1.routes[0]?.route_id);
    // The inputs change again before p2 is applied: p2 no longer describes them.
    writeFileSync(routesFile, JSON.stringify({ routes: [{ from: A, to: C }] }));
    const stale = rtt(["plan", "apply", "p2.json", "--strict", "--check-inputs"]);
    expect(stale.code).toBe(2);
    expect(stale.stderr).toContain(`computed from inputs ${p2.inputs.hash}, the inputs now hash to sha256:`);
    // Without --check-inputs only the base matters.
    expect(rtt(["plan", "apply", "p2.json", "--strict"]).code).toBe(0);
    expect(readTable(paths.table)).toEqual({ plan_id: p2.plan_id, routes: p2.routes });
    const st = JSON.parse(rtt(["plan", "status", "--json"]).stdout);
    expect(st).toMatchObject({ current: p2.plan_id, routes: 2, commits: 2 });
    expect(rtt(["plan", "rollback"]).code).toBe(0);
    expect(rtt(["plan", "apply", "p2.json"]).code).toBe(0);
    expect(rtt(["wal", "verify"]).code).toBe(0);
  });
});

describe("SIGKILL at every phase boundary (RTT_FABRIC_CRASH_AT)", () => {
  const before: CrashPoint[] = ["prepare", "after-plan-stored", "after-prepare-record", "after-votes"];
  const after: CrashPoint[] = ["after-commit-record", "mid-participant", "before-verify", "before-unlock"];
  const cases: Array<[string, CrashPoint, "apply" | "rollback", "old" | "new"]> = [
    ...before.map((p): [string, CrashPoint, "apply", "old"] => [`apply, ${p}`, p, "apply", "old"]),
    ...after.map((p): [string, CrashPoint, "apply", "new"] => [`apply, ${p}`, p, "apply", "new"]),
    ["rollback, before-rollback-record", "before-rollback-record", "rollback", "old"],
    ["rollback, after-rollback-record", "after-rollback-record", "rollback", "new"],
    ["rollback, mid-participant", "mid-participant", "rollback", "new"],
  ];
  it.each(cases)(
    "%s: a restart gives the last committed state, the table equal to it, the WAL verifying",
    async (_, point, op, want) => {
      const { paths, file, rtt } = fresh();
      const p1 = makePlan(null, routes(3));
      const p2 = makePlan(p1, routes(4));
      const r = await Reconciler.open({ paths });
      await r.apply(p1);
      if (op === "rollback") await r.apply(p2);
      r.close();
      const from = op === "apply" ? p1 : p2;
      const to = op === "apply" ? p2 : p1;
      const args = op === "apply" ? ["plan", "apply", file("p2.json", p2)] : ["plan", "rollback"];
      const killed = rtt(args, { RTT_FABRIC_CRASH_AT: point });
      expect(killed.signal, killed.stderr).toBe("SIGKILL");
      const expected = want === "new" ? to : from;
      const left = inForce(paths);
      expect(left.current).toBe(expected.plan_id);

      const rec = rtt(["plan", "recover", "--json"]);
      expect(rec.code, rec.stderr).toBe(0);
      const report = JSON.parse(rec.stdout);
      expect(report.current).toBe(expected.plan_id);
      if (left.pending) expect(report.recovery.aborted).toBe(left.pending);
      expect(report.recovery.lock_taken_over_from).not.toBeNull();
      expect(sameTable(readTable(paths.table), expected.plan_id, expected.routes)).toBe(true);
      expect(existsSync(`${paths.table}.prepared`)).toBe(false);
      const v = rtt(["wal", "verify"]);
      expect(v.code, v.stderr).toBe(0);
      // And the fabric moves on: the plan that was cut short applies (or rolls back) cleanly now.
      if (want === "old") expect(rtt(args).code).toBe(0);
    },
  );

  it("a kill inside recovery (after its abort record) is recovered by the next open", async () => {
    const { paths, file, rtt } = fresh();
    const p1 = makePlan(null, routes(3));
    expect(rtt(["plan", "apply", file("p1.json", p1)], { RTT_FABRIC_CRASH_AT: "after-votes" }).signal).toBe("SIGKILL");
    expect(inForce(paths).pending).toBe(p1.plan_id);
    expect(rtt(["plan", "recover"], { RTT_FABRIC_CRASH_AT: "recovery-after-abort" }).signal).toBe("SIGKILL");
    expect(inForce(paths)).toMatchObject({ current: null, pending: null });
    expect(existsSync(`${paths.table}.prepared`)).toBe(true);
    const rec = rtt(["plan", "recover"]);
    expect(rec.code, rec.stderr).toBe(0);
    expect(existsSync(`${paths.table}.prepared`)).toBe(false);
    expect(readTable(paths.table)).toBeNull();
    expect(rtt(["plan", "apply", "p1.json"]).code).toBe(0);
    expect(readTable(paths.table)?.plan_id).toBe(p1.plan_id);
  });
});
