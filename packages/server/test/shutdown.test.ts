import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { PreparePool, usePreparePool } from "../src/ingest/prepare-pool.js";
import { startServer } from "../src/server.js";
import { SqliteStore } from "../src/store/sqlite.js";
import { makeV2 } from "./support/fixtures.js";

/** Signals when a request has reached preparation, i.e. its body was received in full. */
class WatchedPool extends PreparePool {
  private onEnter!: () => void;
  readonly entered = new Promise<void>((resolve) => {
    this.onEnter = resolve;
  });
  override prepare(bodies: Buffer[]) {
    this.onEnter();
    return super.prepare(bodies);
  }
}

/**
 * Graceful shutdown drains requests, but Node's HTTP server stops waiting for a request once its client
 * disconnects. A session already received must still be stored rather than fail because the store closed
 * under it — a load generator that stops mid-run is the everyday case.
 */
describe("shutdown while a received session is still being prepared", () => {
  const dir = mkdtempSync(join(tmpdir(), "rtt-shutdown-"));
  const pool = new WatchedPool(new URL("./support/slow-null-prepare-worker.mjs", import.meta.url), 1);
  afterAll(async () => {
    usePreparePool(undefined);
    await pool.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("stores the session of a client that left before the answer, and logs no failure", async () => {
    usePreparePool(pool);
    const db = join(dir, "rtt.db");
    const logs: string[] = [];
    const s = await startServer({
      db,
      port: 0,
      sessionOutput: null,
      logLevel: "warn",
      logDestination: { write: (line: string) => logs.push(line) },
    });
    const body = JSON.stringify(makeV2("left-early", { samples: 200 }));
    const url = new URL(`${s.url}/sessions`);
    const req = request({
      host: url.hostname,
      port: url.port,
      path: url.pathname,
      method: "POST",
      headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
    });
    req.on("error", () => {}); // cut off on purpose
    req.end(body);
    await pool.entered;
    req.destroy();
    await s.close();

    const store = new SqliteStore(db);
    try {
      const stored = (await store.getDocument("left-early"))?.toString("utf8");
      expect(stored === body, "the session is stored byte for byte").toBe(true);
    } finally {
      await store.close();
    }
    expect(logs).toEqual([]);
  }, 30_000);
});

/**
 * An embedding process (tests, a host app) must end on its own after `close()`. The compiled package is used
 * because only it runs the prepare pool's worker threads, whose ports once kept the process alive.
 */
describe("after close, nothing of the server keeps the process alive", () => {
  it("a process that starts, uses and closes the server exits by itself", () => {
    const dist = new URL("../dist/index.js", import.meta.url);
    if (!existsSync(dist)) throw new Error(`${dist.pathname} is missing: run \`npm run build\` first`);
    const script = `
      const { startServer } = await import(${JSON.stringify(dist.href)});
      const s = await startServer({ port: 0, db: ":memory:", logLevel: "silent", sessionOutput: null });
      const r = await fetch(s.url + "/run/v2", { method: "POST" });
      await r.arrayBuffer();
      await s.close();
      console.log("closed " + r.status);
    `;
    // A file, not --eval: worker threads inherit the flags of the process.
    const dir = mkdtempSync(join(tmpdir(), "rtt-embed-"));
    const file = join(dir, "embed.mjs");
    writeFileSync(file, script);
    const r = spawnSync(process.execPath, [file], { encoding: "utf8", timeout: 20_000 });
    rmSync(dir, { recursive: true, force: true });
    expect(r.stderr).toBe("");
    expect(r.stdout.trim()).toBe("closed 200");
    expect(r.signal, "the process had to be killed: something kept it alive").toBeNull();
    expect(r.status).toBe(0);
  }, 30_000);
});
