/**
 * Storage contract for diagnostics: site states, beacons, drift events and profiles.
 * Two implementations (sqlite-store.ts, pg-store.ts) pass the same contract tests
 * (packages/diagnostics/test/store.test.ts). Tables are prefixed `rtt_diag_` so they can
 * live beside the rest of the server's schema in the same database (migrations.ts).
 */
import type { Profile } from "@rtt/sdk";
import type { Beacon, DriftEvent, SiteState } from "./drift.js";

/** A site profile: the SDK's (the wire contract of PUT/GET /api/rtt/profile/{site}). */
export type { Profile };

export interface StoredBeacon extends Beacon {
  id?: number;
  received_at: number;
  fingerprint: string;
}

/** What one beacon commits: the beacon row, the site's new state and the drift events it raised. */
export interface BeaconUpdate {
  beacon: StoredBeacon;
  state: SiteState;
  drift: DriftEvent[];
}

export interface DriftQuery {
  site?: string;
  /** Most recent `limit` events, returned oldest first. */
  limit: number;
}

export interface DiagnosticsStore {
  /** Runs the store's `migrate` runner, if it was given one. Idempotent; call once before use. */
  init(): Promise<void>;
  getSite(site: string): Promise<SiteState | undefined>;
  listSites(): Promise<SiteState[]>;
  /**
   * Appends the beacon, replaces the site's state and appends the drift events in ONE transaction,
   * so a crash never leaves a beacon counted without its drift (or the reverse).
   * Returns the drift events with their assigned ids.
   */
  commitBeacon(beacon: StoredBeacon, state: SiteState, drift: DriftEvent[]): Promise<DriftEvent[]>;
  /**
   * The beacon's read-modify-write in one transaction that holds the site's lock: reads the site's state, lets
   * `next` compute the new state and drift from it (synchronously, no I/O), and commits them as commitBeacon does.
   * Two writers of one site — two requests, or two servers on one PostgreSQL — are applied one after the other,
   * each against the state the other committed. Returns what was committed, drift events with their ids.
   */
  recordBeacon(site: string, next: (prev: SiteState | undefined) => BeaconUpdate): Promise<BeaconUpdate>;
  /** Most recent beacons of a site, oldest first. */
  listBeacons(site: string, limit: number): Promise<StoredBeacon[]>;
  listDrift(query: DriftQuery): Promise<DriftEvent[]>;
  putProfile(site: string, profile: Profile, at: number): Promise<void>;
  getProfile(site: string): Promise<Profile | undefined>;
  listProfiles(): Promise<Map<string, Profile>>;
}

/** Column values of a beacon row, in the order both stores insert them: site, session, event, ts, received_at,
 * fingerprint, structure (JSON text), meta (JSON text or null). */
export function beaconRow(
  beacon: StoredBeacon,
): [string, string, string, string, number, string, string, string | null] {
  return [
    beacon.site,
    beacon.session,
    beacon.event,
    beacon.ts,
    beacon.received_at,
    beacon.fingerprint,
    JSON.stringify(beacon.structure),
    beacon.meta === undefined ? null : JSON.stringify(beacon.meta),
  ];
}
