import type { CTFEvent } from "@rtt/ctf";
import { describe, expect, it } from "vitest";
import { GAP_POLL_MS, type LiveSocket, LiveTrace, LiveTraceCache, Subscriber } from "../src/ctf/live.js";
import { heatStep, makeTrace } from "./support/ctf-trace.js";

/** A socket whose unsent byte count the test sets; it records what was sent. */
function fakeSocket() {
  const sent: Array<Record<string, unknown>> = [];
  const socket = {
    bufferedAmount: 0,
    readyState: 1,
    send(data: string) {
      sent.push(JSON.parse(data));
    },
  };
  return { socket: socket as LiveSocket & { bufferedAmount: number }, sent };
}

describe("live subscriber gap notices", () => {
  it("says complete only when nothing follows the notice", async () => {
    const { socket, sent } = fakeSocket();
    // The whole last batch, footer included, is already appended: the trace is complete at seq 10.
    const sub = new Subscriber(socket, 100, () => ({ next_seq: 10, complete: true }));
    const msg = (seq: number) => JSON.stringify({ type: "event", seq });

    socket.bufferedAmount = 100; // full: these two are dropped
    sub.offer(5, msg(5));
    sub.offer(6, msg(6));
    socket.bufferedAmount = 0; // drained before the rest of the batch is offered
    sub.offer(7, msg(7));
    // The notice precedes events 7…9: it must not claim completeness.
    expect(sent[0]).toEqual({ type: "gap", dropped: 2, next_seq: 7, complete: false });
    expect(sent[1]).toEqual({ type: "event", seq: 7 });

    socket.bufferedAmount = 100;
    sub.offer(8, msg(8));
    sub.offer(9, msg(9)); // the footer, dropped
    socket.bufferedAmount = 0;
    await new Promise((r) => setTimeout(r, GAP_POLL_MS * 3));
    // Heard from the poll after the end: now nothing follows.
    expect(sent[2]).toEqual({ type: "gap", dropped: 2, next_seq: 10, complete: true });
    expect(sent).toHaveLength(3);
    sub.close();
  });
});

/** A short finished run: header, steps with their q and status, footer. */
function finishedRun(): CTFEvent[] {
  return makeTrace(3, {
    taskId: "live-position",
    task: "boil water",
    spec: { max_semantic_drift: 0.8, max_branching_pressure: 3, max_steps: 100 },
    step: heatStep(),
  });
}

describe("a live trace's position, as its subscribers are told", () => {
  it("counts only events already offered to them, so a batch still being stored is never reported complete", async () => {
    const trace = new LiveTrace("live-position");
    const { socket, sent } = fakeSocket();
    socket.bufferedAmount = 100; // a stalled viewer: everything is dropped and counted
    const sub = new Subscriber(socket, 100, () => trace.position());
    trace.subscribers.add(sub);
    const events = finishedRun();
    const publish = (batch: CTFEvent[]) => {
      const prepared = batch.map((e, i) => {
        trace.validator.push(e, trace.seq + i + 1);
        return trace.prepare(e);
      });
      return () => {
        for (const p of prepared) trace.publish(p.seq, p.message);
      };
    };
    publish(events.slice(0, 4))();
    // The last batch, footer included, is accepted but not yet published (its append is being written).
    const rest = publish(events.slice(4));
    expect(trace.complete).toBe(true);
    expect(trace.position()).toEqual({ next_seq: 4, complete: false });
    socket.bufferedAmount = 0; // the viewer drains meanwhile: the poll tells it what it missed so far
    await new Promise((r) => setTimeout(r, GAP_POLL_MS * 3));
    expect(sent).toEqual([{ type: "gap", dropped: 4, next_seq: 4, complete: false }]);

    socket.bufferedAmount = 100;
    rest();
    expect(trace.position()).toEqual({ next_seq: events.length, complete: true });
    socket.bufferedAmount = 0;
    await new Promise((r) => setTimeout(r, GAP_POLL_MS * 3));
    expect(sent[1]).toEqual({ type: "gap", dropped: events.length - 4, next_seq: events.length, complete: true });
    sub.close();
  });
});

describe("LiveTraceCache", () => {
  const loader = () => {
    const loads: string[] = [];
    const load = async (id: string) => {
      loads.push(id);
      return new LiveTrace(id);
    };
    return { loads, load };
  };

  it("keeps at most maxIdle idle traces, dropping the least recently used", async () => {
    const { loads, load } = loader();
    const cache = new LiveTraceCache(load, 3);
    for (const id of ["a", "b", "c"]) await cache.open(id);
    await cache.open("a"); // a is now the most recent
    await cache.open("d");
    expect(cache.size).toBe(3);
    expect(cache.peek("b")).toBeUndefined();
    expect(cache.peek("a")).toBeDefined();
    await cache.open("b"); // loaded again from its file
    expect(loads).toEqual(["a", "b", "c", "d", "b"]);
  });

  it("never drops a trace that is watched or busy, and shares one load between callers", async () => {
    const { loads, load } = loader();
    const cache = new LiveTraceCache(load, 1);
    const watched = await cache.open("watched");
    watched.subscribers.add({} as Subscriber);
    const busy = await cache.open("busy");
    let release!: () => void;
    const op = busy.exclusive(() => new Promise<void>((r) => (release = r)));
    const [x, y] = await Promise.all([cache.open("new"), cache.open("new")]);
    expect(x).toBe(y);
    expect(cache.peek("watched")).toBeDefined();
    expect(cache.peek("busy")).toBeDefined();
    release();
    await op;
    watched.subscribers.clear();
    cache.trim();
    expect(cache.size).toBe(1);
    expect(loads.filter((l) => l === "new")).toHaveLength(1);
  });

  it("forgets a failed load so the next caller tries again", async () => {
    let fail = true;
    const cache = new LiveTraceCache(async (id) => {
      if (fail) throw new Error("EMFILE");
      return new LiveTrace(id);
    });
    await expect(cache.open("x")).rejects.toThrow("EMFILE");
    fail = false;
    expect((await cache.open("x")).id).toBe("x");
  });
});
