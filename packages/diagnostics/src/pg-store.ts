/**
 * DiagnosticsStore on PostgreSQL through a `pg` Pool (owned by the caller). JSON columns are JSONB;
 * BIGINT columns come back from `pg` as strings and are converted to numbers (epoch ms fit easily).
 * `schema` (optional) qualifies every table; tests use a throwaway schema per run.
 */
import type { Pool, PoolClient } from "pg";
import type { DriftEvent, SiteState } from "./drift.js";
import {
  type BeaconUpdate,
  beaconRow,
  type DiagnosticsStore,
  type DriftQuery,
  type Profile,
  type StoredBeacon,
} from "./store.js";

export interface PgStoreOptions {
  /** Schema that holds the tables. Default: the connection's search_path. */
  schema?: string;
  /**
   * Brings `schema` ("public" when none is given) to its newest version, the diagnostics steps included
   * (migrations.ts), creating it if missing; `rtt serve` passes the runner of its one versioned list. Without it
   * the schema must already hold the tables.
   */
  migrate?: (client: PoolClient, schema: string) => Promise<void>;
}

export class PgDiagnosticsStore implements DiagnosticsStore {
  private readonly q: (table: string) => string;
  private readonly schema?: string;
  private readonly migrate?: PgStoreOptions["migrate"];

  constructor(
    private readonly pool: Pool,
    opts: PgStoreOptions = {},
  ) {
    this.schema = opts.schema;
    this.migrate = opts.migrate;
    const prefix = opts.schema ? `${quoteIdent(opts.schema)}.` : "";
    this.q = (table) => `${prefix}${table}`;
  }

  async init(): Promise<void> {
    if (!this.migrate) return;
    const client = await this.pool.connect();
    try {
      await this.migrate(client, this.schema ?? "public");
    } finally {
      client.release();
    }
  }

  async getSite(site: string): Promise<SiteState | undefined> {
    const r = await this.pool.query(`SELECT state FROM ${this.q("rtt_diag_sites")} WHERE site = $1`, [site]);
    return r.rows[0]?.state as SiteState | undefined;
  }

  async listSites(): Promise<SiteState[]> {
    const r = await this.pool.query(`SELECT state FROM ${this.q("rtt_diag_sites")} ORDER BY site COLLATE "C"`);
    return r.rows.map((row) => row.state as SiteState);
  }

  async commitBeacon(beacon: StoredBeacon, state: SiteState, drift: DriftEvent[]): Promise<DriftEvent[]> {
    return (await this.recordBeacon(state.site, () => ({ beacon, state, drift }), false)).drift;
  }

  /**
   * Under a transaction-scoped advisory lock on the site (taken before the read, so it also covers a site that has
   * no row yet, which FOR UPDATE could not lock): servers sharing the database apply one site's beacons in turn.
   */
  async recordBeacon(
    site: string,
    next: (prev: SiteState | undefined) => BeaconUpdate,
    read = true,
  ): Promise<BeaconUpdate> {
    const client = await this.pool.connect();
    try {
      await client.query("BEGIN");
      await client.query("SELECT pg_advisory_xact_lock(hashtext('rtt_diag_site'), hashtext($1))", [site]);
      let prev: SiteState | undefined;
      if (read) {
        const r = await client.query(`SELECT state FROM ${this.q("rtt_diag_sites")} WHERE site = $1`, [site]);
        prev = r.rows[0]?.state as SiteState | undefined;
      }
      const { beacon, state, drift } = next(prev);
      await client.query(
        `INSERT INTO ${this.q("rtt_diag_beacons")} (site, session, event, ts, received_at, fingerprint, structure, meta)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        beaconRow(beacon),
      );
      await client.query(
        `INSERT INTO ${this.q("rtt_diag_sites")} (site, state, updated_at) VALUES ($1, $2, $3)
         ON CONFLICT (site) DO UPDATE SET state = EXCLUDED.state, updated_at = EXCLUDED.updated_at`,
        [state.site, JSON.stringify(state), state.last_seen],
      );
      const out: DriftEvent[] = [];
      for (const d of drift) {
        const r = await client.query(
          `INSERT INTO ${this.q("rtt_diag_drift")} (site, kind, at, session, event, details) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
          [d.site, d.kind, d.at, d.session, d.event, JSON.stringify(d.details)],
        );
        out.push({ ...d, id: Number(r.rows[0].id) });
      }
      await client.query("COMMIT");
      return { beacon, state, drift: out };
    } catch (err) {
      await client.query("ROLLBACK").catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  async listBeacons(site: string, limit: number): Promise<StoredBeacon[]> {
    const r = await this.pool.query(
      `SELECT * FROM ${this.q("rtt_diag_beacons")} WHERE site = $1 ORDER BY id DESC LIMIT $2`,
      [site, limit],
    );
    return r.rows.reverse().map((row) => ({
      id: Number(row.id),
      site: row.site,
      session: row.session,
      event: row.event,
      ts: row.ts,
      received_at: Number(row.received_at),
      fingerprint: row.fingerprint,
      structure: row.structure,
      ...(row.meta === null ? {} : { meta: row.meta }),
    }));
  }

  async listDrift(query: DriftQuery): Promise<DriftEvent[]> {
    const r =
      query.site === undefined
        ? await this.pool.query(`SELECT * FROM ${this.q("rtt_diag_drift")} ORDER BY id DESC LIMIT $1`, [query.limit])
        : await this.pool.query(`SELECT * FROM ${this.q("rtt_diag_drift")} WHERE site = $1 ORDER BY id DESC LIMIT $2`, [
            query.site,
            query.limit,
          ]);
    return r.rows.reverse().map((row) => ({
      id: Number(row.id),
      site: row.site,
      kind: row.kind,
      at: Number(row.at),
      session: row.session,
      event: row.event,
      details: row.details,
    }));
  }

  async putProfile(site: string, profile: Profile, at: number): Promise<void> {
    await this.pool.query(
      `INSERT INTO ${this.q("rtt_diag_profiles")} (site, profile, updated_at) VALUES ($1, $2, $3)
       ON CONFLICT (site) DO UPDATE SET profile = EXCLUDED.profile, updated_at = EXCLUDED.updated_at`,
      [site, JSON.stringify(profile), at],
    );
  }

  async getProfile(site: string): Promise<Profile | undefined> {
    const r = await this.pool.query(`SELECT profile FROM ${this.q("rtt_diag_profiles")} WHERE site = $1`, [site]);
    return r.rows[0]?.profile as Profile | undefined;
  }

  async listProfiles(): Promise<Map<string, Profile>> {
    const r = await this.pool.query(`SELECT site, profile FROM ${this.q("rtt_diag_profiles")}`);
    return new Map(r.rows.map((row) => [row.site as string, row.profile as Profile]));
  }
}

function quoteIdent(s: string): string {
  return `"${s.replace(/"/g, '""')}"`;
}
