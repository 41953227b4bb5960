import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
// @ts-expect-error plain ESM helper shared with bench/ingest/run.mjs
import { startChild, stopChild } from "./child.mjs";

// bench/ingest's reference rows must be what run.mjs says they are: `bare` answers after parsing, `append` only once
// the body is in its file (the file is read back here as soon as the 201 arrives).
const dir = mkdtempSync(join(tmpdir(), "rtt-ingest-bench-"));
const children: Array<{ proc: unknown; url: string }> = [];
afterAll(async () => {
  await Promise.all(children.map(stopChild));
  rmSync(dir, { recursive: true, force: true });
});

async function start(mode: string): Promise<string> {
  const child = (await startChild([mode, dir])) as { proc: unknown; url: string };
  children.push(child);
  return child.url;
}

const post = (url: string, body: string) =>
  fetch(`${url}/sessions`, { method: "POST", body, headers: { "content-type": "application/json" } });

describe("bench/ingest servers", () => {
  it("append: replies 201 with the session_id once the body is in the file, one line a body", async () => {
    const url = await start("append");
    const bodies = [1, 2, 3].map((i) => JSON.stringify({ session_id: `S-${i}`, samples: [{ t: i, C: 0.5 }] }));
    const answers = await Promise.all(bodies.map((b) => post(url, b)));
    expect(answers.map((r) => r.status)).toEqual([201, 201, 201]);
    expect(await Promise.all(answers.map((r) => r.json()))).toEqual([
      { session_id: "S-1" },
      { session_id: "S-2" },
      { session_id: "S-3" },
    ]);
    const lines = readFileSync(join(dir, "append.ndjson"), "utf8").trimEnd().split("\n");
    expect([...lines].sort()).toEqual([...bodies].sort());
    expect((await post(url, "{not json")).status).toBe(400);
    expect(readFileSync(join(dir, "append.ndjson"), "utf8").trimEnd().split("\n")).toHaveLength(3);
  });

  it("bare: parses and answers, writing nothing", async () => {
    const url = await start("bare");
    const r = await post(url, JSON.stringify({ session_id: "B-1" }));
    expect(r.status).toBe(201);
    expect(await r.json()).toEqual({ session_id: "B-1" });
    expect((await post(url, "[1,")).status).toBe(400);
  });
});
