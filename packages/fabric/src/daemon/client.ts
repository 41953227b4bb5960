import { FabricError } from "../errors.js";
import { FLAG_CONTROL, FLAG_ERROR, FLAG_RESPONSE, type Frame } from "../lanes/frame.js";
import { ShmRing } from "../lanes/shm-ring.js";
import { FrameSocket } from "../lanes/stream.js";
import { connectTcp } from "../lanes/tcp.js";
import { connectUds } from "../lanes/uds.js";
import { fromWire, jsonBytes, parseJsonBytes, type ResolvedRoute, type ShmLaneInfo } from "./protocol.js";

interface Waiting {
  resolve: (f: Frame) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout | undefined;
}

export interface CallOptions {
  /** ms; 0 or undefined: no client-side timeout. */
  timeoutMs?: number;
}

/**
 * A client of the fabric daemon over a stream lane (UDS or TCP): control requests and calls, many in flight on one
 * connection, answers matched by frame_id. `maxInflight` bounds what the client has outstanding (further calls wait).
 */
export class FabricClient {
  private readonly fs: FrameSocket;
  private waiting = new Map<number, Waiting>();
  private nextId = 1;
  private slots: Array<() => void> = [];
  closedWhy: string | undefined;
  /** Answers that matched no request (late after a timeout): counted, never fatal. */
  unmatched = 0;

  private constructor(
    socket: import("node:net").Socket,
    readonly maxInflight: number,
  ) {
    this.fs = new FrameSocket(socket, {
      onFrame: (f) => this.onFrame(f),
      onClose: (_c, why) => this.onClose(why),
    });
  }

  static async uds(path: string, maxInflight = 256): Promise<FabricClient> {
    return new FabricClient(await connectUds(path), maxInflight);
  }

  static async tcp(host: string, port: number, maxInflight = 256): Promise<FabricClient> {
    return new FabricClient(await connectTcp(host, port), maxInflight);
  }

  /** One control request (spec/fabric/daemon.md); rejects with the daemon's error. */
  async control<T = unknown>(op: string, body: Record<string, unknown> = {}, opts: CallOptions = {}): Promise<T> {
    const f = await this.request(FLAG_CONTROL, 0, jsonBytes({ op, ...body }), opts);
    return parseJsonBytes(f.payload) as T;
  }

  resolve(symbol: string): Promise<ResolvedRoute> {
    return this.control<ResolvedRoute>("resolve", { symbol });
  }

  /**
   * Opens `symbol`'s route on this connection with a capability token of verb `open` (its calls need no further
   * token while the connection lives), or, with a `tx` token, allows one call. Without a token: the daemon's
   * `auth: none` mode. Returns the route to call.
   */
  grant(verb: "open" | "tx", symbol: string, token?: unknown): Promise<ResolvedRoute & { grant: string }> {
    return this.control<ResolvedRoute & { grant: string }>(verb, { symbol, ...(token !== undefined ? { token } : {}) });
  }

  /** A call on route `routeId`: the answer bytes, or the daemon's / driver's error. */
  async call(routeId: number, payload: Uint8Array, opts: CallOptions = {}): Promise<Buffer> {
    return (await this.request(0, routeId, payload, opts)).payload;
  }

  /** A call by symbol (resolved once per call: after a hot swap the new route is used). */
  async callSymbol(symbol: string, payload: Uint8Array, opts: CallOptions = {}): Promise<Buffer> {
    const r = await this.resolve(symbol);
    return this.call(r.route_id, payload, opts);
  }

  /** Asks the daemon for an SHM lane to a route and maps its rings. */
  async openShm(
    target: { symbol: string; token?: unknown } | { route_id: number },
    capacity?: number,
  ): Promise<ShmClientLane> {
    const info = await this.control<ShmLaneInfo>("shm_open", { ...target, ...(capacity ? { capacity } : {}) });
    return new ShmClientLane(info, this);
  }

  get inflight(): number {
    return this.waiting.size;
  }

  close(): void {
    this.fs.close();
  }

  destroy(): void {
    this.fs.destroy();
  }

  private async request(flags: number, routeId: number, payload: Uint8Array, opts: CallOptions): Promise<Frame> {
    while (this.waiting.size >= this.maxInflight) await new Promise<void>((r) => this.slots.push(r));
    if (this.closedWhy) throw new FabricError("RTT_FABRIC_DAEMON", `connection closed (${this.closedWhy})`);
    const id = this.nextId;
    this.nextId = (this.nextId % 0xfffffffe) + 1;
    return new Promise<Frame>((resolve, reject) => {
      const timer =
        opts.timeoutMs && opts.timeoutMs > 0
          ? setTimeout(() => {
              this.settle(id);
              reject(new FabricError("RTT_FABRIC_TIMEOUT", `no answer in ${opts.timeoutMs} ms`));
            }, opts.timeoutMs)
          : undefined;
      this.waiting.set(id, { resolve, reject, timer });
      this.fs.send(flags, routeId, id, payload);
    });
  }

  private settle(id: number): Waiting | undefined {
    const w = this.waiting.get(id);
    if (!w) return undefined;
    this.waiting.delete(id);
    if (w.timer) clearTimeout(w.timer);
    this.slots.shift()?.();
    return w;
  }

  private onFrame(f: Frame): void {
    if (!(f.flags & FLAG_RESPONSE)) {
      this.unmatched++;
      return;
    }
    const w = this.settle(f.frameId);
    if (!w) {
      this.unmatched++;
      return;
    }
    if (f.flags & FLAG_ERROR) w.reject(fromWire(f.payload));
    else w.resolve(f);
  }

  private onClose(why: string): void {
    this.closedWhy = why;
    for (const id of [...this.waiting.keys()])
      this.settle(id)?.reject(new FabricError("RTT_FABRIC_DAEMON", `connection closed (${why})`));
    for (const s of this.slots.splice(0)) s();
  }
}

/**
 * The client end of an SHM lane: writes request frames into the request ring, reads answers from the response
 * ring. One caller at a time per lane (SPSC). A full request ring blocks the caller (parks on the ring until the
 * daemon frees room) for at most the call's timeout.
 */
export class ShmClientLane {
  readonly req: ShmRing;
  readonly resp: ShmRing;
  private nextId = 1;
  spinMicros = 50;

  constructor(
    readonly info: ShmLaneInfo,
    private readonly control: FabricClient,
  ) {
    this.req = ShmRing.open(info.req);
    this.resp = ShmRing.open(info.resp);
  }

  /** One round trip; `fill` writes the payload in place (zero copy) into the ring. */
  async call(payload: Uint8Array, opts: CallOptions & { fill?: (view: Uint8Array) => void } = {}): Promise<Uint8Array> {
    const id = this.nextId;
    this.nextId = (this.nextId % 0xfffffffe) + 1;
    const deadline = performance.now() + (opts.timeoutMs && opts.timeoutMs > 0 ? opts.timeoutMs : 30_000);
    while (!this.req.tryWrite({ flags: 0, routeId: this.info.route_id, frameId: id }, payload, opts.fill)) {
      if (performance.now() > deadline) throw new FabricError("RTT_FABRIC_OVERLOAD", "request ring full");
      await this.req.waitForSpace(10_000);
    }
    for (;;) {
      const f = this.resp.tryRead();
      if (f) {
        if (f.frameId !== id) {
          this.resp.release(); // a late answer to a call that timed out
          continue;
        }
        const out = Buffer.from(f.payload);
        const flags = f.flags;
        this.resp.release();
        if (flags & FLAG_ERROR) throw fromWire(out);
        return out;
      }
      if (this.resp.broken) throw new FabricError("RTT_FABRIC_CORRUPT", `response ring broken: ${this.resp.broken}`);
      const left = deadline - performance.now();
      if (left <= 0) throw new FabricError("RTT_FABRIC_TIMEOUT", "no answer on the SHM lane in time");
      await this.resp.waitForData(this.spinMicros, Math.min(50_000, Math.ceil(left * 1000)));
    }
  }

  async close(): Promise<void> {
    await this.control.control("shm_close", { lane: this.info.lane });
  }
}
