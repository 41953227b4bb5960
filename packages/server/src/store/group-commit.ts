import type { IngestItem, IngestOutcome, SessionStore } from "./types.js";

interface Pending {
  item: IngestItem;
  resolve: (o: IngestOutcome) => void;
  reject: (e: unknown) => void;
}

/**
 * Group commit: ingest requests arriving while a commit is in progress (or in the same event-loop turn)
 * are written together in the next transaction, so one disk flush acknowledges many sessions.
 * Every promise resolves only after its transaction committed. Order of submission is kept.
 * If a grouped transaction fails, its items are retried one by one so one bad item cannot sink the others.
 */
export class GroupCommitter {
  private queue: Pending[] = [];
  private running = false;
  private scheduled = false;
  private closed = false;
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
        await this.commit(batch);
      }
    } finally {
      this.running = false;
      if (this.queue.length) this.schedule();
      else for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  private async commit(batch: Pending[]): Promise<void> {
    try {
      const outcomes = await this.store.ingest(batch.map((p) => p.item));
      batch.forEach((p, i) => {
        p.resolve(outcomes[i]);
      });
      return;
    } catch (e) {
      if (batch.length === 1) {
        batch[0].reject(e);
        return;
      }
    }
    for (const p of batch) {
      try {
        p.resolve((await this.store.ingest([p.item]))[0]);
      } catch (e) {
        p.reject(e);
      }
    }
  }

  /** Stops accepting work and waits until everything accepted so far is committed (or failed). */
  async close(): Promise<void> {
    this.closed = true;
    if (!this.running && !this.scheduled && this.queue.length === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }
}
