import { describe, expect, it } from "vitest";
import { GroupCommitter } from "../src/store/group-commit.js";
import type { IngestItem, IngestOptions, IngestOutcome, SessionStore } from "../src/store/types.js";

const item = (id: string) => ({ columns: { session_id: id } }) as unknown as IngestItem;

interface Call {
  ids: string[];
  opts?: IngestOptions;
  finish: (fail?: Error) => void;
}

/** A store whose groups finish only when the test says so; `sequenceAt` = when it reports a group sequenced. */
function fakeStore(sequenceAt: "never" | "start") {
  const calls: Call[] = [];
  let waiter: (() => void) | undefined;
  const store = {
    kind: "sqlite",
    ingest(items: IngestItem[], opts?: IngestOptions): Promise<IngestOutcome[]> {
      return new Promise((resolve, reject) => {
        calls.push({
          ids: items.map((i) => i.columns.session_id),
          opts,
          finish: (fail) => (fail ? reject(fail) : resolve(items.map(() => ({ status: "created" })))),
        });
        if (sequenceAt === "start") opts?.sequenced?.();
        waiter?.();
      });
    },
  } as unknown as SessionStore;
  const nextCall = async (n: number) => {
    while (calls.length < n) await new Promise<void>((r) => (waiter = r));
    return calls[n - 1];
  };
  return { store, calls, nextCall };
}

const tick = () => new Promise((r) => setImmediate(r));

describe("GroupCommitter", () => {
  it("waits for a group to settle before the next when the store never sequences early", async () => {
    const { store, calls, nextCall } = fakeStore("never");
    const c = new GroupCommitter(store, 2);
    const all = c.submitAll(["a", "b", "c", "d"].map(item));
    const first = await nextCall(1);
    expect(first.ids).toEqual(["a", "b"]);
    await tick();
    await tick();
    expect(calls).toHaveLength(1);
    first.finish();
    (await nextCall(2)).finish();
    expect(calls[1].ids).toEqual(["c", "d"]);
    expect((await Promise.all(all)).map((o) => o.status)).toEqual(["created", "created", "created", "created"]);
    await c.close();
  });

  it("starts the next group once the store sequenced the current one; each resolves on its own commit", async () => {
    const { store, nextCall } = fakeStore("start");
    const c = new GroupCommitter(store, 2);
    const resolved: string[] = [];
    const all = ["a", "b", "c", "d", "e"].map((id) => c.submit(item(id)).then(() => resolved.push(id)));
    const [g1, g2, g3] = [await nextCall(1), await nextCall(2), await nextCall(3)];
    expect([g1.ids, g2.ids, g3.ids]).toEqual([["a", "b"], ["c", "d"], ["e"]]);
    g2.finish();
    await tick();
    expect(resolved).toEqual(["c", "d"]); // acknowledged after its own commit, not after a's
    let closed = false;
    const closing = c.close().then(() => (closed = true));
    g3.finish();
    await tick();
    expect(closed).toBe(false); // a group is still in flight
    g1.finish();
    await Promise.all(all);
    await closing;
    expect(closed).toBe(true);
    await expect(c.submit(item("late"))).rejects.toThrow(/shutting down/);
  });

  it("retries the items of a failed group one by one", async () => {
    const { store, nextCall } = fakeStore("start");
    const c = new GroupCommitter(store, 3);
    const all = Promise.allSettled(c.submitAll(["a", "b", "c"].map(item)));
    (await nextCall(1)).finish(new Error("constraint"));
    (await nextCall(2)).finish();
    (await nextCall(3)).finish(new Error("constraint"));
    (await nextCall(4)).finish();
    const out = await all;
    expect(out.map((o) => o.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    await c.close();
  });
});
