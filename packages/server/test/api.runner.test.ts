import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { validateSessionLog } from "@rtt/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SelfCheckMonitor } from "../src/self-check.js";
import { StartupError, startServer } from "../src/server.js";
import { type TestApp, testApp } from "./support/app.js";

const failingCheck = () => [{ code: "REF_VALUE_MISMATCH", path: "/samples/1/C", message: "drifted" }];

describe("runner API (seed: /healthz, /run, /run/v2, /validate, /metrics)", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await testApp();
  });
  afterAll(() => t.close());

  it("GET /healthz reports status, conformance, versions and the last validation time", async () => {
    const r = await t.app.inject("/healthz");
    expect(r.statusCode).toBe(200);
    const body = r.json();
    expect(body).toMatchObject({ status: "ok", conformance: true, engine_version: "RTT-2.0.0", spec_version: "v2" });
    expect(Date.parse(body.last_validation_at)).not.toBeNaN();
  });

  it("POST /run returns a valid v1 log and stores nothing (the seed's runner); ?store=true stores it", async () => {
    const before = await t.store.countSessions();
    const r = await t.app.inject({ method: "POST", url: "/run" });
    expect(r.statusCode).toBe(200);
    const log = r.json();
    expect(log.spec_version).toBeUndefined();
    expect(validateSessionLog(log, { conformance: true }).ok).toBe(true);
    expect((await t.app.inject(`/replay/${log.session_id}`)).statusCode).toBe(404);
    expect(await t.store.countSessions()).toBe(before);
    const kept = await t.app.inject({ method: "POST", url: "/run?store=true" });
    expect(kept.statusCode).toBe(200);
    const exp = await t.app.inject(`/replay/${kept.json().session_id}/export`);
    expect(exp.body).toBe(kept.body);
    expect(await t.store.countSessions()).toBe(before + 1);
  });

  it("POST /run/v2 returns a valid v2 log with warmup + main segments; stored only with ?store=true", async () => {
    const r = await t.app.inject({ method: "POST", url: "/run/v2" });
    expect(r.statusCode).toBe(200);
    const log = r.json();
    expect(log.segments.map((s: { label: string }) => s.label)).toEqual(["warmup", "main"]);
    expect(validateSessionLog(log, { conformance: true }).ok).toBe(true);
    expect((await t.app.inject(`/replay/${log.session_id}`)).statusCode).toBe(404);
    const kept = (await t.app.inject({ method: "POST", url: "/run/v2?store=true" })).json();
    expect((await t.app.inject(`/replay/${kept.session_id}`)).statusCode).toBe(200);
  });

  it("POST /run with Content-Type: application/json and no body runs like a bare POST (the seed ignores the body)", async () => {
    for (const url of ["/run", "/run/v2"]) {
      const r = await t.app.inject({ method: "POST", url, headers: { "content-type": "application/json" } });
      expect(r.statusCode, `${url}: ${r.body}`).toBe(200);
      expect(validateSessionLog(r.json(), { conformance: true }).ok).toBe(true);
      const ws = await t.app.inject({
        method: "POST",
        url,
        headers: { "content-type": "application/json" },
        payload: " \n",
      });
      expect(ws.statusCode, `${url} (whitespace body): ${ws.body}`).toBe(200);
    }
  });

  it("GET /run and GET /run/v2 answer like POST (the seed's handlers take any method) and never store", async () => {
    const before = await t.store.countSessions();
    const v1 = await t.app.inject("/run");
    expect(v1.statusCode, v1.body).toBe(200);
    expect(v1.headers["content-type"]).toMatch(/^application\/json/);
    expect(validateSessionLog(v1.json(), { conformance: true }).ok).toBe(true);
    expect(v1.json().spec_version).toBeUndefined();
    const v2 = await t.app.inject("/run/v2");
    expect(v2.statusCode).toBe(200);
    expect(v2.json().spec_version).toBe("v2");
    const store = await t.app.inject("/run?store=true");
    expect(store.statusCode).toBe(400);
    expect(store.json().error).toMatch(/POST/);
    expect(await t.store.countSessions()).toBe(before);
  });

  it("accepts a chosen session_id on /run, and rejects bad run options with located 400s", async () => {
    const ok = await t.app.inject({ method: "POST", url: "/run/v2", payload: { session_id: "MY-RUN-1" } });
    expect(ok.json().session_id).toBe("MY-RUN-1");
    const badStore = await t.app.inject({ method: "POST", url: "/run?store=maybe" });
    expect(badStore.statusCode).toBe(400);
    expect(badStore.json().details[0].path).toMatch(/store/);
    const bad = await t.app.inject({ method: "POST", url: "/run", payload: { seed: "x", colour: 1 } });
    expect(bad.statusCode).toBe(400);
    expect(
      bad
        .json()
        .details.map((d: { path: string }) => d.path)
        .sort(),
    ).toEqual(["/colour", "/seed"]);
    expect((await t.app.inject({ method: "POST", url: "/run", payload: [1] })).statusCode).toBe(400);
    const notJson = await t.app.inject({
      method: "POST",
      url: "/run",
      headers: { "content-type": "application/json" },
      payload: "{",
    });
    expect(notJson.statusCode).toBe(400);
  });

  it("POST /run with a scenario body runs the simulation (or says 501 while core lacks it)", async () => {
    const r = await t.app.inject({
      method: "POST",
      url: "/run/v2",
      payload: { scenario: "no-such-scenario", seed: 1 },
    });
    expect([400, 501]).toContain(r.statusCode);
    expect(r.json().error).toBeTypeOf("string");
  });

  it("POST /validate runs the engine + conformance gate", async () => {
    const r = await t.app.inject({ method: "POST", url: "/validate" });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ status: "ok" });
  });

  it("GET /metrics has the seed's metrics with route patterns as path labels", async () => {
    await t.app.inject("/replay/nope");
    const text = (await t.app.inject("/metrics")).body;
    expect(text).toContain('rtt_runner_http_requests_total{path="/run",method="POST",status="200"}');
    expect(text).toContain('rtt_runner_http_requests_total{path="/replay/:id",method="GET",status="404"}');
    expect(text).not.toContain('path="/replay/nope"');
    expect(text).toMatch(/^rtt_runner_run_requests_total [1-9]/m);
    expect(text).toMatch(/^rtt_runner_validate_requests_total 1$/m);
    expect(text).toMatch(/^rtt_runner_conformance_ok 1$/m);
    expect(text).toContain('rtt_runner_last_run_duration_seconds_bucket{le="0.001"}');
    expect(text).toContain('rtt_runner_last_run_duration_seconds_bucket{le="1"}');
    expect(text).toContain("process_cpu_user_seconds_total");
  });

  it("/metrics passes promtool check metrics", async (ctx) => {
    const probe = spawnSync("promtool", ["--version"]);
    if (probe.error) {
      console.warn("promtool not installed (Debian package prometheus); promtool check skipped");
      ctx.skip();
    }
    // Exercise every session metric first so the check sees them with samples.
    await t.app.inject({ method: "POST", url: "/run/v2", payload: {} });
    const text = (await t.app.inject("/metrics")).body;
    const r = spawnSync("promtool", ["check", "metrics"], { input: text });
    expect(`${r.stdout}${r.stderr}`).toBe("");
    expect(r.status).toBe(0);
  });
});

describe("startup self-validation", () => {
  const dir = mkdtempSync(join(tmpdir(), "rtt-startup-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("refuses to start when conformance fails, with the reason", async () => {
    const err = await startServer({ db: ":memory:", port: 0, logLevel: "silent", selfCheck: failingCheck }).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(StartupError);
    expect(err.message).toMatch(/conformance self-validation failed: \/samples\/1\/C: drifted/);
    expect(err.code).toBe("RTT_ERR_STARTUP_SELF_CHECK");
  });

  it("--allow-degraded serves with status degraded and the gauge at 0", async () => {
    const s = await startServer({
      db: ":memory:",
      port: 0,
      logLevel: "silent",
      sessionOutput: null,
      selfCheck: failingCheck,
      allowDegraded: true,
    });
    try {
      const h = await (await fetch(`${s.url}/healthz`)).json();
      expect(h).toMatchObject({ status: "degraded", conformance: false });
      expect(await (await fetch(`${s.url}/metrics`)).text()).toMatch(/^rtt_runner_conformance_ok 0$/m);
      const v = await fetch(`${s.url}/validate`, { method: "POST" });
      expect(v.status).toBe(500);
      expect(await v.json()).toMatchObject({ status: "failed" });
    } finally {
      await s.close();
    }
  });

  it("refuses a non-loopback host without a token, and short tokens", async () => {
    await expect(startServer({ host: "0.0.0.0", port: 0, db: ":memory:", logLevel: "silent" })).rejects.toThrow(
      /refusing to listen on non-loopback host 0.0.0.0 without a token/,
    );
    await expect(startServer({ port: 0, db: ":memory:", token: "short", logLevel: "silent" })).rejects.toThrow(
      /at least 16 characters/,
    );
    const tokenFile = join(dir, "token");
    writeFileSync(tokenFile, "\n  a-long-enough-secret-token  \n");
    const s = await startServer({
      host: "0.0.0.0",
      port: 0,
      db: ":memory:",
      tokenFile,
      logLevel: "silent",
      sessionOutput: null,
    });
    await s.close();
    await expect(
      startServer({ port: 0, db: ":memory:", tokenFile: join(dir, "missing"), logLevel: "silent" }),
    ).rejects.toThrow(/cannot read token file .*ENOENT/);
  });

  it("the seed's Docker flow: on 0.0.0.0 with a token, `curl -X POST …/run` needs none; storing does", async () => {
    // As the image starts it (Dockerfile CMD, deploy/k8s/rtt-runner.yaml): --host 0.0.0.0 --token-file ….
    const token = "docker-flow-token-0123456789";
    const tokenFile = join(dir, "docker-token");
    writeFileSync(tokenFile, `${token}\n`);
    const s = await startServer({
      host: "0.0.0.0",
      port: 0,
      db: ":memory:",
      tokenFile,
      logLevel: "silent",
      sessionOutput: null,
    });
    try {
      const base = s.url.replace("0.0.0.0", "localhost");
      // curl -X POST http://localhost:8080/run — curl sends no Origin and no body.
      for (const path of ["/run", "/run/v2"]) {
        const r = await fetch(`${base}${path}`, { method: "POST" });
        expect(r.status, path).toBe(200);
        expect(validateSessionLog(await r.json(), { conformance: true }).ok).toBe(true);
      }
      const json = await fetch(`${base}/run`, { method: "POST", headers: { "content-type": "application/json" } });
      expect(json.status).toBe(200);
      expect((await fetch(`${base}/run`)).status).toBe(200);
      expect(await (await fetch(`${base}/validate`, { method: "POST" })).json()).toEqual({ status: "ok" });
      // Anything that stores still needs the (write) token.
      const noToken = await fetch(`${base}/run?store=true`, { method: "POST" });
      expect(noToken.status).toBe(401);
      expect(
        (
          await fetch(`${base}/sessions`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: "{}",
          })
        ).status,
      ).toBe(401);
      const auth = { authorization: `Bearer ${token}` };
      const stored = await fetch(`${base}/run?store=true`, { method: "POST", headers: auth });
      expect(stored.status).toBe(200);
      const id = ((await stored.json()) as { session_id: string }).session_id;
      expect((await fetch(`${base}/replay/${id}`)).status).toBe(401);
      expect((await fetch(`${base}/replay/${id}`, { headers: auth })).status).toBe(200);
      // The Origin check is kept for compute-only runs: a foreign page's POST is refused.
      expect((await fetch(`${base}/run`, { method: "POST", headers: { origin: "http://evil.example" } })).status).toBe(
        403,
      );
    } finally {
      await s.close();
    }
  });

  it("a SelfCheckMonitor that throws reports degraded instead of crashing", () => {
    const m = new SelfCheckMonitor(() => {
      throw new Error("boom");
    });
    expect(m.run()).toEqual({ ok: false, reason: "/: boom [SELF_CHECK_CRASHED]" });
    expect(m.health().status).toBe("degraded");
  });
});
