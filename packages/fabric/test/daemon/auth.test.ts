import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueToken } from "../../src/caps/token.js";
import { FabricClient } from "../../src/daemon/client.js";
import { generateKeyPair, writeKeyPair } from "../../src/trust/keys.js";
import { trustKey } from "../../src/trust/store.js";
import { type Daemon, type Project, project, RTT, route, startDaemon } from "./harness.js";

// Issue 16 item 3: capability tokens on route operations (spec/fabric/daemon.md, "Capability tokens").

const ECHO = "rtt://test/echo";
const SCOPED = "rtt://test/scoped";
let p: Project;
let d: Daemon;
const trusted = generateKeyPair();
const stranger = generateKeyPair();
let keyFile: string;

beforeAll(async () => {
  p = project([route(1, "rtt://svc/a", ECHO), route(2, "rtt://svc/b", SCOPED, "shm")], {
    [ECHO]: { builtin: "echo", info: true },
    [SCOPED]: { builtin: "echo", info: true, scopes: ["metrics.read"] },
  });
  const w = writeKeyPair(trusted, join(p.dir, "keys"), "ops");
  keyFile = w.privateKeyFile;
  trustKey(join(p.root, "registry"), w.publicKeyFile);
  d = await startDaemon(p, ["--tcp", "0"], { auth: true });
}, 30_000);
afterAll(async () => {
  await d?.stop();
  p?.cleanup();
});

const tok = (
  saddr: string,
  verb: "open" | "tx",
  o: { scopes?: string[]; key?: typeof trusted; clock?: () => number } = {},
) => issueToken({ saddr, verb, scopes: o.scopes ?? [], ttlMs: 60_000 }, (o.key ?? trusted).privateKey, o.clock);

async function refused(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect((e as { code?: string }).code).toBe("RTT_FABRIC_UNAUTHORIZED");
    return (e as Error).message;
  }
  throw new Error("expected RTT_FABRIC_UNAUTHORIZED");
}

const body = Buffer.from('{"n":1}');

describe("capability tokens on the daemon", () => {
  it("a data frame on a route never opened is refused; no token → refused", async () => {
    const c = await FabricClient.uds(p.socket);
    try {
      expect(await refused(c.call(1, body))).toMatch(/not open on this connection/);
      expect(await refused(c.grant("tx", "rtt://svc/a"))).toMatch(/needs a capability token/);
    } finally {
      c.close();
    }
  });

  it("tx allows one call, open the connection; replayed, wrong verb, forged, expired and wrong-scope tokens are refused", async () => {
    const c = await FabricClient.uds(p.socket);
    try {
      const tx = tok("rtt://svc/a", "tx");
      const r = await c.grant("tx", "rtt://svc/a", tx);
      expect(r).toMatchObject({ route_id: 1, to: ECHO, grant: "1 calls" });
      expect(JSON.parse((await c.call(1, body)).toString())).toEqual({ endpoint: ECHO, request: { n: 1 } });
      expect(await refused(c.call(1, body))).toMatch(/not open/); // spent
      expect(await refused(c.grant("tx", "rtt://svc/a", tx))).toMatch(/replayed/);
      expect(await refused(c.grant("open", "rtt://svc/a", tok("rtt://svc/a", "tx")))).toMatch(/wrong_verb/);
      expect(await refused(c.grant("open", "rtt://svc/a", tok("rtt://svc/b", "open")))).toMatch(/wrong_saddr/);
      expect(await refused(c.grant("open", "rtt://svc/a", tok("rtt://svc/a", "open", { key: stranger })))).toMatch(
        /untrusted/,
      );
      const past = () => Date.now() - 120_000;
      expect(await refused(c.grant("open", "rtt://svc/a", tok("rtt://svc/a", "open", { clock: past })))).toMatch(
        /expired/,
      );
      const forged = { ...tok("rtt://svc/a", "open"), saddr: "rtt://svc/b" };
      expect(await refused(c.grant("open", "rtt://svc/b", forged))).toMatch(/bad_signature/);
      expect(await refused(c.grant("open", "rtt://svc/b", tok("rtt://svc/b", "open")))).toMatch(/wrong_scope/);
      await c.grant("open", "rtt://svc/a", tok("rtt://svc/a", "open"));
      for (let i = 0; i < 20; i++) await c.call(1, body);
      // The grant belongs to this connection: another one has none.
      const other = await FabricClient.uds(p.socket);
      try {
        expect(await refused(other.call(1, body))).toMatch(/not open/);
      } finally {
        other.close();
      }
      const s = await c.control<{
        auth: { mode: string; tokens: Record<string, number>; refused: number };
        drops: { uds: Record<string, number> };
      }>("status");
      expect(s.auth.mode).toBe("tokens");
      expect(s.auth.tokens).toMatchObject({
        accepted: 2,
        replayed: 1,
        wrong_verb: 1,
        wrong_saddr: 1,
        untrusted: 1,
        expired: 1,
        bad_signature: 1,
        wrong_scope: 1,
        missing: 1,
      });
      expect(s.auth.refused).toBe(8);
      expect(s.drops.uds.unauthorized).toBeGreaterThanOrEqual(2);
    } finally {
      c.close();
    }
  });

  it("SHM lanes need an open token (with the endpoint's scopes); TCP needs its own grant and serves no 2PC", async () => {
    const c = await FabricClient.uds(p.socket);
    try {
      expect(await refused(c.openShm({ route_id: 2 }))).toBeTruthy();
      expect(await refused(c.openShm({ symbol: "rtt://svc/b" }))).toMatch(/needs a capability token/);
      const lane = await c.openShm({
        symbol: "rtt://svc/b",
        token: tok("rtt://svc/b", "open", { scopes: ["metrics.read"] }),
      });
      expect(JSON.parse(Buffer.from(await lane.call(body, { timeoutMs: 10_000 })).toString())).toEqual({
        endpoint: SCOPED,
        request: { n: 1 },
      });
      await lane.close();
    } finally {
      c.close();
    }
    const t = await FabricClient.tcp(d.tcp?.host as string, d.tcp?.port as number);
    try {
      expect(await refused(t.call(1, body))).toMatch(/not open/);
      const tr = { kind: "apply", plan_id: "sha256:evil", from: null, routes: [] };
      expect(await refused(t.control("prepare", { transition: tr }))).toMatch(/control socket only/);
      expect(await refused(t.control("commit", { transition: tr }))).toMatch(/control socket only/);
      await t.grant("open", "rtt://svc/a", tok("rtt://svc/a", "open"));
      expect(JSON.parse((await t.call(1, body)).toString())).toMatchObject({ endpoint: ECHO });
    } finally {
      t.close();
    }
  }, 20_000);

  it("rtt call --key issues a token, --token FILE presents one (once); rtt fabric status shows refusals", () => {
    const run = (...a: string[]) =>
      spawnSync(process.execPath, [RTT, ...a, "--root", p.root], { cwd: p.dir, encoding: "utf8" });
    const k = run("call", "rtt://svc/a", "--json", '{"k":1}', "--key", keyFile);
    expect(k.status, k.stderr).toBe(0);
    expect(JSON.parse(k.stdout)).toEqual({ endpoint: ECHO, request: { k: 1 } });
    const sh = run("call", "rtt://svc/b", "--lane", "shm", "--key", keyFile, "--scope", "metrics.read");
    expect(sh.status, sh.stderr).toBe(0);
    const tcp = run("call", "rtt://svc/a", "--lane", "tcp", "--key", keyFile);
    expect(tcp.status, tcp.stderr).toBe(0);
    const f = join(p.dir, "tok.json");
    writeFileSync(f, JSON.stringify(tok("rtt://svc/a", "tx")));
    expect(run("call", "rtt://svc/a", "--token", f).status).toBe(0);
    const again = run("call", "rtt://svc/a", "--token", f);
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(/replayed/);
    const none = run("call", "rtt://svc/a");
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/needs a capability token/);
    const st = run("fabric", "status");
    expect(st.status, st.stderr).toBe(0);
    expect(st.stdout).toMatch(/auth: tokens — accepted \d+, refused \d+ \(.*replayed \d/);
  }, 60_000);

  it("--no-auth is explicit and logged", async () => {
    const q = project([route(1, "rtt://svc/a", ECHO)], { [ECHO]: { builtin: "echo" } });
    const e = await startDaemon(q, []);
    try {
      expect(e.stderr()).toMatch(/AUTH DISABLED/);
      const c = await FabricClient.uds(q.socket);
      try {
        expect((await c.call(1, body)).toString()).toBe('{"n":1}');
        expect((await c.control<{ auth: { mode: string } }>("status")).auth.mode).toBe("none");
      } finally {
        c.close();
      }
    } finally {
      await e.stop();
      q.cleanup();
    }
  }, 30_000);
});
