import { type IngestItem, type IngestOutcome, type SessionStore, StoreBusyError } from "./types.js";

interface Pending {
  item: IngestItem;
  resolve: (o: IngestOutcome) => void;
  reject: (e: unknown) => void;
}

/**
 * Group commit: ingest requests arriving while a commit is in progress (or in the same event-loop turn)
 * are written together in the next transaction, so one disk flush acknowledges many sessions.
 * Every promise resolves only after its transaction committed. Order of submission is kept: the next group
 * starts once the store reports the current one sequenced (its place in the commit order fixed, see
 * `IngestOptions.sequenced`) — so a store may overlap one group's commit with the next group's work — or
 * once it settled. If a grouped transaction fails, its items are retried one by one so one bad item cannot
 * sink the others — unless the store was busy: that is no item's fault, and each retry would wait again.
 */
export class GroupCommitter {
  private queue: Pending[] = [];
  /** A group is being sequenced: the next one waits. */
  private running = false;
  private scheduled = false;
  private closed = false;
  /** Groups handed to the store and not settled yet. */
  private inFlight = 0;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly store: SessionStore,
    private readonly maxBatch = 256,
  ) {}

  submit(item: IngestItem): Promise<IngestOutcome> {
    if (this.closed) return Promise.reject(new Error("store is shutting down"));
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  submitAll(items: IngestItem[]): Promise<IngestOutcome>[] {
    return items.map((it) => this.submit(it));
  }

  private schedule(): void {
    if (this.running || this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.drain();
    });
  }

  private async drain(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.queue.length) {
        const batch = this.queue.splice(0, this.maxBatch);
        await this.start(batch);
      }
    } finally {
      this.running = false;
      if (this.queue.length) this.schedule();
      else this.checkIdle();
    }
  }

  /** Hands a group to the store; resolves when the group is sequenced or settled, whichever comes first. */
  private start(batch: Pending[]): Promise<void> {
    return new Promise<void>((next) => {
      this.inFlight++;
      void this.commit(batch, next).finally(() => {
        this.inFlight--;
        next();
        this.checkIdle();
      });
    });
  }

  private async commit(batch: Pending[], sequenced: () => void): Promise<void> {
    try {
      const outcomes = await this.store.ingest(
        batch.map((p) => p.item),
        { sequenced },
      );
      // Store.ingest answers one outcome per item, in order.
      batch.forEach((p, i) => {
        p.resolve(outcomes[i]!);
      });
      return;
    } catch (e) {
      if (batch.length === 1 || e instanceof StoreBusyError) {
        for (const p of batch) p.reject(e);
        return;
      }
    }
    for (const p of batch) {
      try {
        const [outcome] = await this.store.ingest([p.item]);
        p.resolve(outcome!); // one item, one outcome
      } catch (e) {
        p.reject(e);
      }
    }
  }

  private checkIdle(): void {
    if (this.running || this.scheduled || this.queue.length || this.inFlight) return;
    for (const w of this.idleWaiters.splice(0)) w();
  }

  /** Stops accepting work and waits until everything accepted so far is committed (or failed). */
  async close(): Promise<void> {
    this.closed = true;
    if (!this.running && !this.scheduled && this.queue.length === 0 && this.inFlight === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }
}
