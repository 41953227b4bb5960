/**
 * DiagnosticsStore on better-sqlite3. Takes an open `Database` handle (the caller owns opening, WAL mode and
 * closing). JSON columns are TEXT.
 */
import { StoreBusyError } from "@rtt/http";
import type { Database } from "better-sqlite3";
import type { DriftEvent, SiteState } from "./drift.js";
import {
  type BeaconUpdate,
  beaconRow,
  type DiagnosticsStore,
  type DriftQuery,
  type Profile,
  type StoredBeacon,
} from "./store.js";

interface BeaconRow {
  id: number;
  site: string;
  session: string;
  event: string;
  ts: string;
  received_at: number;
  fingerprint: string;
  structure: string;
  meta: string | null;
}

interface DriftRow {
  id: number;
  site: string;
  kind: DriftEvent["kind"];
  at: number;
  session: string;
  event: string;
  details: string;
}

export interface SqliteStoreOptions {
  /**
   * Brings the database to its newest schema, the diagnostics steps included (migrations.ts); `rtt serve` passes
   * the runner of its one versioned list. Without it the database must already hold the tables.
   */
  migrate?: (db: Database) => void;
}

export class SqliteDiagnosticsStore implements DiagnosticsStore {
  constructor(
    private readonly db: Database,
    private readonly opts: SqliteStoreOptions = {},
  ) {}

  async init(): Promise<void> {
    this.opts.migrate?.(this.db);
  }

  async getSite(site: string): Promise<SiteState | undefined> {
    const row = this.db.prepare("SELECT state FROM rtt_diag_sites WHERE site = ?").get(site) as
      | { state: string }
      | undefined;
    return row ? (JSON.parse(row.state) as SiteState) : undefined;
  }

  async listSites(): Promise<SiteState[]> {
    const rows = this.db.prepare("SELECT state FROM rtt_diag_sites ORDER BY site").all() as Array<{ state: string }>;
    return rows.map((r) => JSON.parse(r.state) as SiteState);
  }

  async commitBeacon(beacon: StoredBeacon, state: SiteState, drift: DriftEvent[]): Promise<DriftEvent[]> {
    return (await this.recordBeacon(state.site, () => ({ beacon, state, drift }))).drift;
  }

  /** IMMEDIATE: the write lock is taken before the read, so every writer of the file (other processes too) waits. */
  async recordBeacon(site: string, next: (prev: SiteState | undefined) => BeaconUpdate): Promise<BeaconUpdate> {
    const insertBeacon = this.db.prepare(
      "INSERT INTO rtt_diag_beacons (site, session, event, ts, received_at, fingerprint, structure, meta) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    );
    const upsertSite = this.db.prepare(
      "INSERT INTO rtt_diag_sites (site, state, updated_at) VALUES (?, ?, ?) ON CONFLICT(site) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
    );
    const insertDrift = this.db.prepare(
      "INSERT INTO rtt_diag_drift (site, kind, at, session, event, details) VALUES (?, ?, ?, ?, ?, ?)",
    );
    const tx = this.db.transaction((): BeaconUpdate => {
      const row = this.db.prepare("SELECT state FROM rtt_diag_sites WHERE site = ?").get(site) as
        | { state: string }
        | undefined;
      const { beacon, state, drift } = next(row ? (JSON.parse(row.state) as SiteState) : undefined);
      insertBeacon.run(...beaconRow(beacon));
      upsertSite.run(state.site, JSON.stringify(state), state.last_seen);
      const saved = drift.map((d) => {
        const r = insertDrift.run(d.site, d.kind, d.at, d.session, d.event, JSON.stringify(d.details));
        return { ...d, id: Number(r.lastInsertRowid) };
      });
      return { beacon, state, drift: saved };
    });
    // IMMEDIATE: the sessions store writes to the same file from another connection; taking the write lock
    // up front waits out its commit (busy timeout) instead of failing on a lock upgrade.
    return this.use(() => tx.immediate());
  }

  async listBeacons(site: string, limit: number): Promise<StoredBeacon[]> {
    const rows = this.db
      .prepare("SELECT * FROM rtt_diag_beacons WHERE site = ? ORDER BY id DESC LIMIT ?")
      .all(site, limit) as BeaconRow[];
    return rows.reverse().map((r) => ({
      id: r.id,
      site: r.site,
      session: r.session,
      event: r.event,
      ts: r.ts,
      received_at: r.received_at,
      fingerprint: r.fingerprint,
      structure: JSON.parse(r.structure),
      ...(r.meta === null ? {} : { meta: JSON.parse(r.meta) }),
    }));
  }

  async listDrift(query: DriftQuery): Promise<DriftEvent[]> {
    const rows = (
      query.site === undefined
        ? this.db.prepare("SELECT * FROM rtt_diag_drift ORDER BY id DESC LIMIT ?").all(query.limit)
        : this.db
            .prepare("SELECT * FROM rtt_diag_drift WHERE site = ? ORDER BY id DESC LIMIT ?")
            .all(query.site, query.limit)
    ) as DriftRow[];
    return rows.reverse().map((r) => ({ ...r, details: JSON.parse(r.details) }));
  }

  async putProfile(site: string, profile: Profile, at: number): Promise<void> {
    this.use(() =>
      this.db
        .prepare(
          "INSERT INTO rtt_diag_profiles (site, profile, updated_at) VALUES (?, ?, ?) ON CONFLICT(site) DO UPDATE SET profile = excluded.profile, updated_at = excluded.updated_at",
        )
        .run(site, JSON.stringify(profile), at),
    );
  }

  async getProfile(site: string): Promise<Profile | undefined> {
    const row = this.db.prepare("SELECT profile FROM rtt_diag_profiles WHERE site = ?").get(site) as
      | { profile: string }
      | undefined;
    return row ? (JSON.parse(row.profile) as Profile) : undefined;
  }

  async listProfiles(): Promise<Map<string, Profile>> {
    const rows = this.db.prepare("SELECT site, profile FROM rtt_diag_profiles").all() as Array<{
      site: string;
      profile: string;
    }>;
    return new Map(rows.map((r) => [r.site, JSON.parse(r.profile) as Profile]));
  }

  /**
   * Runs a write; a lock another connection (the sessions store, another process) held past the busy timeout
   * becomes a StoreBusyError (503 with Retry-After), as the sessions store's writes do.
   */
  private use<T>(write: () => T): T {
    try {
      return write();
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      if (typeof code === "string" && code.startsWith("SQLITE_BUSY"))
        throw new StoreBusyError("the diagnostics store is busy (database locked by another writer); retry shortly");
      throw e;
    }
  }
}
