import type { SessionLog } from "@rtt/core";
import type { SessionStore } from "../store/types.js";
import { buildReplaySession, type ReplaySession } from "./model.js";

/**
 * Parsed sessions for replay, least recently used first out, bounded by an approximate memory budget.
 *
 * Why an LRU rather than a per-segment sample table: replay traffic is bursty per session (the UI opens a
 * session, then fetches segments, columns, events and a stream of it), so parsing once per view is enough,
 * while a sample table would multiply ingest writes and storage for every session, replayed or not.
 * Metadata requests (/replay/{id}, /segments) never parse: they read the segment index stored at ingest.
 * Concurrent misses for the same id share one parse.
 */
export class ReplayCache {
  private readonly entries = new Map<string, ReplaySession>();
  private readonly loading = new Map<string, Promise<ReplaySession | undefined>>();
  private used = 0;
  parses = 0;

  constructor(
    private readonly store: SessionStore,
    private readonly budgetBytes: number,
  ) {}

  async get(sessionId: string): Promise<ReplaySession | undefined> {
    const hit = this.entries.get(sessionId);
    if (hit) {
      this.entries.delete(sessionId);
      this.entries.set(sessionId, hit);
      return hit;
    }
    let pending = this.loading.get(sessionId);
    if (!pending) {
      pending = this.load(sessionId).finally(() => this.loading.delete(sessionId));
      this.loading.set(sessionId, pending);
    }
    return pending;
  }

  private async load(sessionId: string): Promise<ReplaySession | undefined> {
    const doc = await this.store.getDocument(sessionId);
    if (!doc) return undefined;
    this.parses++;
    const session = buildReplaySession(JSON.parse(doc.toString("utf8")) as SessionLog, doc.length);
    this.entries.set(sessionId, session);
    this.used += session.bytes;
    // Evict the oldest entries, but always keep the one just loaded.
    for (const [id, s] of this.entries) {
      if (this.used <= this.budgetBytes || id === sessionId) break;
      this.entries.delete(id);
      this.used -= s.bytes;
    }
    return session;
  }

  size(): number {
    return this.entries.size;
  }
}
