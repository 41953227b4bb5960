import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startServer } from "../src/server.js";
import { type CorridorDoc, readJson, type SiteList, type TraceList } from "./support/json.js";

/** What `rtt serve` mounts besides the runner and replay APIs: the CTF API and the diagnostics API. */
describe("rtt serve mounts the CTF and diagnostics APIs on its own store", () => {
  const dir = mkdtempSync(join(tmpdir(), "rtt-wiring-"));
  const db = join(dir, "rtt.db");
  const token = "wiring-test-token-0123";
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const beacon = {
    site: "svc-wiring",
    session: "s-1",
    event: "heartbeat",
    ts: "2026-11-23T10:00:00Z",
    structure: {
      url: "internal://svc",
      title: "Svc",
      nav_count: 1,
      main_count: 1,
      form_count: 0,
      button_count: 2,
      dom_nodes: 40,
    },
  };

  it("--demo seeds the example agent's traces beside the SQLite file; beacons need the token and persist", async () => {
    const s = await startServer({ db, port: 0, demo: true, token, logLevel: "silent", sessionOutput: null });
    try {
      expect(s.dataDir).toBe(dir);
      expect(existsSync(join(dir, "ctf", "boiling-point-steady.ctf"))).toBe(true);
      const auth = { headers: { authorization: `Bearer ${token}` } };
      expect((await fetch(`${s.url}/ctf`)).status).toBe(401);
      const list = await readJson<TraceList>(await fetch(`${s.url}/ctf`, auth));
      expect(list.traces.map((t) => t.id).sort()).toEqual(["boiling-point-flaky", "boiling-point-steady"]);
      const trace = await readJson<CorridorDoc>(await fetch(`${s.url}/api/corridor/boiling-point-flaky`, auth));
      expect(trace.header?.task_id).toBe("boiling-point-flaky");

      const post = (auth?: string) =>
        fetch(`${s.url}/api/rtt/beacon`, {
          method: "POST",
          headers: { "content-type": "application/json", ...(auth ? { authorization: auth } : {}) },
          body: JSON.stringify(beacon),
        });
      expect((await post()).status).toBe(401);
      expect((await post(`Bearer ${token}`)).status).toBe(200);

      const metrics = await (await fetch(`${s.url}/metrics`)).text();
      expect(metrics).toContain('rtt_beacons_total{service="svc-wiring",event="heartbeat"} 1');
      expect(metrics).toMatch(
        /rtt_runner_http_requests_total\{path="\/api\/rtt\/beacon",method="POST",status="200"\} 1/,
      );
    } finally {
      await s.close();
    }

    // Same file, new process state: the site and its beacon are still there; demo traces are not copied twice.
    const again = await startServer({ db, port: 0, demo: true, token, logLevel: "silent", sessionOutput: null });
    try {
      const sites = await readJson<SiteList>(
        await fetch(`${again.url}/api/rtt/sites`, { headers: { authorization: `Bearer ${token}` } }),
      );
      expect(sites.sites.map((x) => [x.site, x.beacons])).toEqual([["svc-wiring", 1]]);
      expect((await again.diagnostics.listBeacons("svc-wiring", 10)).map((b) => b.event)).toEqual(["heartbeat"]);
    } finally {
      await again.close();
    }
  }, 60_000);

  it("an in-memory store keeps CTF files in a scratch folder that is removed on close", async () => {
    const s = await startServer({ db: ":memory:", port: 0, logLevel: "silent", sessionOutput: null });
    const scratch = s.dataDir;
    expect(existsSync(scratch)).toBe(true);
    const body = readFileSync(
      new URL("../../../examples/agent/traces/boiling-point-steady.ctf", import.meta.url),
      "utf8",
    );
    const up = await fetch(`${s.url}/ctf?id=scratch-1`, {
      method: "POST",
      headers: { "content-type": "application/x-ndjson" },
      body,
    });
    expect(up.status).toBe(201);
    expect(existsSync(join(scratch, "ctf", "scratch-1.ctf"))).toBe(true);
    await s.close();
    expect(existsSync(scratch)).toBe(false);
  });
});
