import { type CTFEvent, type CTFIssue, CTFValidator, parseCTFText, Q_METRICS, type QMetrics } from "@rtt/ctf";

/** The minimal WebSocket surface used here (ws's WebSocket satisfies it). */
export interface LiveSocket {
  readonly bufferedAmount: number;
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

const OPEN = 1;

/**
 * Drop policy for slow subscribers. The producer never waits for a viewer: every message is handed
 * to each subscriber's socket without awaiting it. A subscriber whose socket already holds more than
 * `maxBufferedBytes` of unsent data gets nothing more until it drains below that; the messages it
 * misses are counted, and as soon as it has room again (checked on its next message, and every
 * `GAP_POLL_MS` so a viewer that missed the footer still hears about it) it receives
 * `{"type":"gap","dropped":N,"next_seq":S,"complete":bool}` so it can re-fetch `GET /api/corridor/:id`.
 * Memory per subscriber is therefore bounded by `maxBufferedBytes` plus one message.
 */
export const GAP_POLL_MS = 50;

export class Subscriber {
  dropped = 0;
  delivered = 0;
  private timer: NodeJS.Timeout | null = null;
  constructor(
    readonly socket: LiveSocket,
    private readonly maxBufferedBytes: number,
    /** Where the trace is now: the seq of the next message and whether the footer was written. */
    private readonly position: () => { next_seq: number; complete: boolean },
  ) {}

  offer(seq: number, message: string): void {
    const s = this.socket;
    if (s.readyState !== OPEN) return;
    if (s.bufferedAmount + message.length > this.maxBufferedBytes) {
      this.dropped++;
      this.timer ??= setInterval(() => this.flushGap(), GAP_POLL_MS).unref();
      return;
    }
    if (this.dropped > 0) this.sendGap(seq);
    s.send(message);
    this.delivered++;
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private flushGap(): void {
    if (this.socket.readyState !== OPEN) {
      this.close();
      return;
    }
    if (this.dropped > 0 && this.socket.bufferedAmount < this.maxBufferedBytes) this.sendGap(this.position().next_seq);
  }

  private sendGap(nextSeq: number): void {
    // "complete" promises that nothing follows this notice: a gap sent just before the rest of a batch that
    // ended with the footer must not say so, or a viewer stops reading while events are still on the way.
    const at = this.position();
    const complete = at.complete && nextSeq >= at.next_seq;
    this.socket.send(JSON.stringify({ type: "gap", dropped: this.dropped, next_seq: nextSeq, complete }));
    this.dropped = 0;
    this.close();
  }
}

/** The five Q-metrics of a q event or a computed q, without `type` and `step_id` (the seed's `q`). */
function metricsOf(q: QMetrics): QMetrics {
  const out = {} as QMetrics;
  for (const m of Q_METRICS) out[m] = q[m];
  return out;
}

export interface AppendResult {
  accepted: number;
  /** The first rejected event: its line in the request body, the file line it would have had, and why. */
  error?: { body_line: number; issues: CTFIssue[] };
}

/**
 * One trace open for live appends: the validator replaying it (so appends are checked against the
 * rules in context), its subscribers, and a queue that serialises appends and subscriptions.
 */
export class LiveTrace {
  validator: CTFValidator;
  /** Sequence number of the next event accepted (prepared). */
  seq = 0;
  /**
   * Sequence number of the next event handed to subscribers. Behind `seq` while an accepted batch is being
   * stored: subscribers must not be told about events (or a footer) they have not been offered yet.
   */
  published = 0;
  readonly subscribers = new Set<Subscriber>();
  private queue: Promise<unknown> = Promise.resolve();
  /** Appends and subscriptions queued or running. */
  private pending = 0;

  constructor(readonly id: string) {
    this.validator = LiveTrace.freshValidator();
  }

  static freshValidator(): CTFValidator {
    return new CTFValidator({ requireFooter: false, recompute: true });
  }

  /** Replays the stored text (after a restart, or after a rejected append left the validator mid-event). */
  reload(text: string): void {
    const v = LiveTrace.freshValidator();
    let seq = 0;
    parseCTFText(text, (l) => {
      if (l.issue) v.pushIssue(l.issue);
      else {
        v.push(l.value, l.line);
        seq++;
      }
    });
    this.validator = v;
    this.seq = seq;
    this.published = seq;
  }

  get complete(): boolean {
    return this.validator.footer !== null;
  }

  /** Where the trace stands for its subscribers: the next seq they will be offered, and whether none will follow. */
  position(): { next_seq: number; complete: boolean } {
    return { next_seq: this.published, complete: this.complete && this.published === this.seq };
  }

  /** Runs `fn` after every earlier append/subscription of this trace has finished. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    this.pending++;
    const run = this.queue.then(fn, fn).finally(() => {
      this.pending--;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Nobody watches it and nothing is queued: it can be dropped and loaded again from its file when needed. */
  get idle(): boolean {
    return this.pending === 0 && this.subscribers.size === 0;
  }

  /**
   * The live message for one event: the seed's `{step, q, status}` update plus the raw event. `step` is the head
   * (the current step), and `q` and `status` are that step's own — never the previous step's: the q/status the
   * file wrote for it, else the ones computed for it (see prepare), else null. Before any step: null, null and
   * the corridor's status (stable).
   */
  message(event: CTFEvent, seq: number): string {
    const v = this.validator;
    const head = v.state?.head ?? null;
    return JSON.stringify({
      type: "event",
      seq,
      step: head?.id ?? null,
      q: head?.q ? metricsOf(head.q) : null,
      status: head ? (head.status ?? null) : v.lastStatus,
      event,
    });
  }

  /**
   * Call right after the validator accepted `event`: snapshots the live update as of this event (the
   * head, its q and status *after* it, not after the whole batch) and assigns its sequence number.
   * A new step has no q or status in the file yet (they follow it): the corridor runtime's own computation
   * gives them now, so the update for step N carries step N's metrics (the file's q, when it comes, replaces
   * them). A rewind's target is recomputed by the validator. Not for a drift only a foreign embedder can give.
   */
  prepare(event: CTFEvent): { seq: number; message: string } {
    const v = this.validator;
    const embedder = v.header?.embedder;
    if (event.type === "step" && v.state?.tracksMetrics && (!embedder || embedder === "tfidf")) v.state.describeHead();
    const seq = this.seq++;
    return { seq, message: this.message(event, seq) };
  }

  /**
   * Disconnects every subscriber with `code` (1011): used when this live state cannot be trusted any more (the
   * stored file could not be read back after a failed append), so viewers reconnect instead of waiting silently.
   */
  disconnectAll(code: number, reason: string): void {
    for (const s of this.subscribers) {
      s.close();
      if (s.socket.readyState === OPEN) s.socket.close(code, reason);
    }
    this.subscribers.clear();
  }

  /** Hands a prepared message to every subscriber without waiting for any of them. */
  publish(seq: number, message: string): void {
    for (const s of this.subscribers) s.offer(seq, message);
    this.published = seq + 1;
  }
}

/**
 * The live traces of one server, by id, loaded from their files on first use. The promise is what is kept, so
 * callers that arrive together (two viewers connecting, a viewer and the first append) share one LiveTrace instead
 * of each building its own while the file is read — a viewer on an orphaned copy would never hear of an append.
 * Idle traces beyond `maxIdle` are dropped, least recently used first: without that every id ever viewed or
 * appended to stayed in memory for the life of the process (~1.3 KB per unknown id, ~24 KB per viewed trace).
 */
export class LiveTraceCache {
  private readonly entries = new Map<string, { promise: Promise<LiveTrace>; trace?: LiveTrace }>();

  constructor(
    private readonly load: (id: string) => Promise<LiveTrace>,
    readonly maxIdle = 256,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** The traces loaded now (not those still loading). */
  loaded(): LiveTrace[] {
    const out: LiveTrace[] = [];
    for (const e of this.entries.values()) if (e.trace) out.push(e.trace);
    return out;
  }

  /** The trace if it is loaded or loading, without loading it. */
  peek(id: string): Promise<LiveTrace> | undefined {
    return this.entries.get(id)?.promise;
  }

  /** The trace, loaded on first use; a failed load does not stick (the next caller tries again). */
  open(id: string): Promise<LiveTrace> {
    const found = this.entries.get(id);
    if (found) {
      // Most recently used last: eviction walks from the front.
      this.entries.delete(id);
      this.entries.set(id, found);
      return found.promise;
    }
    const entry: { promise: Promise<LiveTrace>; trace?: LiveTrace } = {
      promise: this.load(id).then((t) => {
        entry.trace = t;
        return t;
      }),
    };
    this.entries.set(id, entry);
    entry.promise.catch(() => {
      if (this.entries.get(id) === entry) this.entries.delete(id);
    });
    this.trim();
    return entry.promise;
  }

  /** Forgets `trace` if it is still the one kept for its id (its state was lost; the next caller reloads). */
  drop(trace: LiveTrace): void {
    if (this.entries.get(trace.id)?.trace === trace) this.entries.delete(trace.id);
  }

  /** Drops idle traces, oldest first, until at most `maxIdle` remain (busy ones always stay). */
  trim(): void {
    if (this.entries.size <= this.maxIdle) return;
    for (const [id, e] of this.entries) {
      if (this.entries.size <= this.maxIdle) return;
      if (e.trace?.idle) this.entries.delete(id);
    }
  }
}
