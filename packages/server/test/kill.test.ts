import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type Child, spawnServer, waitExit } from "./support/child.js";
import { json, makeV2 } from "./support/fixtures.js";
import { type BatchAnswer, type OperatorList, readJson } from "./support/json.js";

const TOTAL = 2400;
const CONCURRENCY = 16;
/** Kill the server when this many sessions have been acknowledged (two crashes mid-stream). */
const KILL_AT = [700, 1600];
const BATCH_EVERY = 5; // every 5th request is an NDJSON batch of BATCH_LINES sessions
const BATCH_LINES = 4;

const OPERATORS = ["urn:operator:kill:a", "urn:operator:kill:b", "urn:operator:kill:c"];

describe("durability under SIGKILL", () => {
  const dir = mkdtempSync(join(tmpdir(), "rtt-kill-"));
  const db = join(dir, "rtt.db");
  let child: Child | undefined;
  afterAll(async () => {
    if (child && child.proc.exitCode === null) {
      child.proc.kill("SIGKILL");
      await waitExit(child.proc);
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it(`every 2xx-acknowledged session of ${TOTAL} survives two SIGKILLs mid-stream byte for byte`, async () => {
    const bodies = Array.from({ length: TOTAL }, (_, i) =>
      json(
        makeV2(`KILL-${String(i).padStart(5, "0")}`, {
          samples: 24,
          day: i % 30,
          operator: i % 4 === 3 ? undefined : OPERATORS[i % 3],
          anomalies: i % 7 === 0 ? [[0.5, "DECOHERENCE_SPIKE", 1 + (i % 5)]] : [],
        }),
      ),
    );
    const pending = bodies.map((_, i) => i).reverse();
    const acked = new Map<number, number>(); // index → status
    let kills = 0;
    let requests = 0;
    let failures = 0;

    const started = performance.now();
    child = await spawnServer({ db });
    let current: Promise<Child> = Promise.resolve(child);

    const restart = async (victim: Child) => {
      victim.proc.kill("SIGKILL");
      const exit = await waitExit(victim.proc);
      expect(exit.signal).toBe("SIGKILL");
      child = await spawnServer({ db });
      return child;
    };

    const worker = async (w: number) => {
      while (pending.length) {
        const server = await current;
        const batch = requests % BATCH_EVERY === w % BATCH_EVERY && pending.length >= BATCH_LINES;
        const take = pending.splice(-(batch ? BATCH_LINES : 1)).reverse();
        requests++;
        try {
          const res = await fetch(`${server.url}/sessions`, {
            method: "POST",
            headers: { "content-type": batch ? "application/x-ndjson" : "application/json" },
            body: take.map((i) => bodies[i]).join("\n"),
          });
          const body = await readJson<BatchAnswer>(res);
          if (batch) {
            expect(res.status, JSON.stringify(body).slice(0, 300)).toBeLessThan(300);
            body.results.forEach((r, k) => {
              expect([200, 201]).toContain(r.status);
              acked.set(take[k], r.status);
            });
          } else {
            expect([200, 201], JSON.stringify(body)).toContain(res.status);
            acked.set(take[0], res.status);
          }
        } catch (e) {
          if ((e as Error).name === "AssertionError") throw e;
          // Connection died with the server: not acknowledged, so send again to the next server.
          failures++;
          pending.push(...take.reverse());
          await current;
          if ((await current) === server) await new Promise((r) => setTimeout(r, 20));
          continue;
        }
        if (kills < KILL_AT.length && acked.size >= KILL_AT[kills] && (await current) === server) {
          kills++;
          current = restart(server);
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, (_, w) => worker(w)));
    const final = await current;
    const ingestMs = performance.now() - started;

    expect(kills).toBe(2);
    expect(acked.size).toBe(TOTAL);
    // Sessions resent after a crash had either been committed (200 duplicate) or not (201): both are fine.
    const counts = await (await fetch(`${final.url}/replay/sessions?limit=1`)).json();
    expect(counts).toHaveLength(1);
    let checked = 0;
    for (let i = 0; i < TOTAL; i += 1) {
      const id = `KILL-${String(i).padStart(5, "0")}`;
      const res = await fetch(`${final.url}/replay/${id}/export`);
      expect(res.status, id).toBe(200);
      expect(await res.text(), id).toBe(bodies[i]);
      checked++;
    }
    expect(checked).toBe(TOTAL);
    const ops = await readJson<OperatorList>(await fetch(`${final.url}/api/operators`));
    expect(ops.reduce((n, o) => n + o.sessions, 0)).toBe(bodies.filter((_, i) => i % 4 !== 3).length);
    console.info(
      `kill test: ${TOTAL} sessions, ${requests} requests, ${failures} cut by the kills, ${kills} SIGKILLs; ingest ${Math.round(ingestMs)} ms, verify ${Math.round(performance.now() - started - ingestMs)} ms`,
    );
  }, 120_000);
});
