import { FabricError } from "../errors.js";

export type Backpressure = "block" | "drop";

/**
 * Bounds the calls in flight to one endpoint (Envoy-style concurrency cap). Under `drop` a call over the cap is
 * refused at once; under `block` it waits in a FIFO of at most `queue` calls for at most `blockMs`, then is refused.
 * Every refusal is counted by reason; nothing here grows past `max + queue`.
 */
export class Limiter {
  inflight = 0;
  private waiting: Array<{ go: () => void; fail: (e: Error) => void; timer: NodeJS.Timeout }> = [];
  readonly refused = { overload: 0, queue_full: 0, block_timeout: 0 };

  constructor(
    readonly max: number,
    readonly policy: Backpressure,
    readonly queue: number,
    readonly blockMs: number,
  ) {}

  get queued(): number {
    return this.waiting.length;
  }

  /** Resolves when the call may go (then `release()` exactly once), or throws RTT_FABRIC_OVERLOAD. */
  acquire(): Promise<void> | undefined {
    if (this.inflight < this.max) {
      this.inflight++;
      return undefined;
    }
    if (this.policy === "drop") {
      this.refused.overload++;
      throw new FabricError("RTT_FABRIC_OVERLOAD", `${this.max} calls in flight (policy drop)`);
    }
    if (this.waiting.length >= this.queue) {
      this.refused.queue_full++;
      throw new FabricError("RTT_FABRIC_OVERLOAD", `${this.max} calls in flight and ${this.queue} queued`);
    }
    return new Promise((resolve, reject) => {
      const entry = {
        go: () => {
          clearTimeout(entry.timer);
          this.inflight++;
          resolve();
        },
        fail: (e: Error) => {
          clearTimeout(entry.timer);
          reject(e);
        },
        timer: setTimeout(() => {
          const i = this.waiting.indexOf(entry);
          if (i >= 0) this.waiting.splice(i, 1);
          this.refused.block_timeout++;
          reject(new FabricError("RTT_FABRIC_OVERLOAD", `blocked ${this.blockMs} ms waiting for a slot`));
        }, this.blockMs),
      };
      this.waiting.push(entry);
    });
  }

  release(): void {
    this.inflight--;
    this.waiting.shift()?.go();
  }

  /** Refuses everything still queued (shutdown). */
  rejectQueued(): void {
    for (const w of this.waiting.splice(0)) {
      w.fail(new FabricError("RTT_FABRIC_DAEMON", "the endpoint is closing"));
    }
  }
}
