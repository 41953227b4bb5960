import { describe, expect, it } from "vitest";
import { GAP_POLL_MS, type LiveSocket, Subscriber } from "../src/ctf/live.js";

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
