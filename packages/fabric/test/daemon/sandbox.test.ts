import { existsSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FabricClient } from "../../src/daemon/client.js";
import { probeSandbox } from "../../src/sandbox/sandbox.js";
import { type Daemon, fixtureDriver, json, type Project, parse, project, route, startDaemon } from "./harness.js";

// Issue 16 item 4 through the daemon: command drivers run under the sandbox's DriverSupervisor — sandboxed by
// default (bubblewrap + seccomp + Node's permission model), `sandbox: "none"` logged; a hung driver is killed and
// restarted with back-off while its route reports unhealthy.

const probe = probeSandbox();
const required = process.env.RTT_REQUIRE_SANDBOX === "1";
if (!probe.ok && required) throw new Error(`RTT_REQUIRE_SANDBOX=1 but no sandbox: ${probe.reason}`);
const d_ = probe.ok ? describe : describe.skip;

const S = "rtt://svc/sandboxed";
const N = "rtt://svc/plain";
const H = "rtt://svc/hangs";
let p: Project;
let d: Daemon;
let c: FabricClient;
let srv: Server;
let port = 0;

beforeAll(async () => {
  if (!probe.ok) return;
  srv = createServer((s) => s.end());
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  port = (srv.address() as { port: number }).port;
  p = project([route(1, "rtt://app/s", S), route(2, "rtt://app/n", N), route(3, "rtt://app/h", H)], {
    [S]: fixtureDriver("S"),
    [N]: fixtureDriver("N", { sandbox: "none" }),
    [H]: fixtureDriver("H", { heartbeat_ms: 600, timeout_ms: 20_000 }),
  });
  d = await startDaemon(p);
  c = await FabricClient.uds(p.socket);
}, 30_000);
afterAll(async () => {
  c?.close();
  await d?.stop();
  p?.cleanup();
  srv?.close();
});

const status = () => c.control<any>("status");

d_("daemon drivers under the sandbox supervisor", () => {
  it("a driver is sandboxed by default: no network, no writes outside; `sandbox: none` is logged and can", async () => {
    const file = join(p.dir, "escape.txt");
    expect(parse(await c.call(1, json({ net: port })))).toMatchObject({ driver: "S" });
    expect(parse(await c.call(1, json({ net: port }))).net).not.toBe("connected");
    expect(parse(await c.call(1, json({ write: file }))).write).not.toBe("written");
    expect(existsSync(file)).toBe(false);
    expect(parse(await c.call(2, json({ net: port }))).net).toBe("connected");
    const s = await status();
    const by = (sym: string) => s.drivers.find((x: any) => x.symbol === sym);
    expect(by(S)).toMatchObject({ kind: "command", sandbox: "bwrap", healthy: true });
    expect(by(N)).toMatchObject({ kind: "command", sandbox: "none", healthy: true });
    expect(d.stderr()).toMatch(/UNSANDBOXED/);
  });

  it("a hung driver (a call outstanding, silent past heartbeat_ms) is killed, restarted, and recovers", async () => {
    const hung = c.call(3, json({ hang: true }));
    await expect(hung).rejects.toMatchObject({ code: "RTT_FABRIC_DRIVER" });
    await expect(hung).rejects.toThrow(/no heartbeat/);
    const mid = (await status()).routes.find((r: any) => r.route_id === 3);
    expect(mid.healthy).toBe(false);
    let ok = false;
    for (let i = 0; i < 100 && !ok; i++) {
      ok = await c.call(3, json({ again: i })).then(
        () => true,
        () => false,
      );
      if (!ok) await sleep(50);
    }
    expect(ok).toBe(true);
    const h = (await status()).drivers.find((x: any) => x.symbol === H);
    expect(h).toMatchObject({ healthy: true, restarts: 1, sandbox: "bwrap" });
    expect(h.last_error).toMatch(/no heartbeat/);
  }, 20_000);
});
