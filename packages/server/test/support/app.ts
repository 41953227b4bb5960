import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { type AppOptions, type BuiltApp, buildApp } from "../../src/app.js";
import { SessionEmitter } from "../../src/emit.js";
import { SelfCheckMonitor } from "../../src/self-check.js";
import { SqliteStore } from "../../src/store/sqlite.js";
import type { SessionStore } from "../../src/store/types.js";

export interface TestApp extends BuiltApp {
  store: SessionStore;
  /** Lines written to the Loki feed so far. */
  lines(): Array<Record<string, unknown>>;
  close(): Promise<void>;
}

/** An in-process app on a fresh SQLite file, conformance checked, Loki feed captured. */
export async function testApp(opts: Partial<AppOptions> = {}): Promise<TestApp> {
  const dir = mkdtempSync(join(tmpdir(), "rtt-server-test-"));
  const store = opts.store ?? new SqliteStore(join(dir, "rtt.db"));
  const out = new PassThrough();
  let text = "";
  out.on("data", (c: Buffer) => {
    text += c.toString("utf8");
  });
  const selfCheckMonitor = opts.selfCheckMonitor ?? new SelfCheckMonitor();
  if (!opts.selfCheckMonitor) selfCheckMonitor.run();
  const built = await buildApp({ store, emitter: new SessionEmitter(out), rateLimit: 0, ...opts, selfCheckMonitor });
  return {
    ...built,
    store,
    lines: () =>
      text
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l)),
    close: async () => {
      await built.app.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const JSON_HEADERS = { "content-type": "application/json" };
export const NDJSON_HEADERS = { "content-type": "application/x-ndjson" };
