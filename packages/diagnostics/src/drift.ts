/**
 * Drift detection for beacons, as a pure state transition: (previous site state, beacon, receive time)
 * → (next site state, drift events). Storage and metrics live elsewhere. Documented in
 * docs/api/rtt/drift.md.
 *
 * Drift kinds:
 * - structure_change  the structural fingerprint differs from the site's previous beacon. Not raised
 *                     inside a deploy window (deploy_start … deploy_finish): a deploy is expected to
 *                     change things, and that change is summarised once by deploy_drift.
 * - baseline_drift    the fingerprint left the last post-deploy baseline (the deploy_finish
 *                     fingerprint). Edge-triggered: raised when the site goes from "baseline" to
 *                     "drifted", not again for every further beacon while it stays drifted.
 * - deploy_drift      at deploy_finish, the fingerprint differs from the one at deploy_start.
 * - missed_heartbeat  the gap since the previous beacon is more than 2× the site's observed cadence.
 *                     The cadence is the median of the last gaps between consecutive heartbeats
 *                     (heartbeat / cluster_heartbeat), known once MIN_CADENCE_SAMPLES gaps were seen.
 *                     A gap after a clean `shutdown` beacon is not a miss. Flagged gaps are not fed
 *                     back into the cadence. Times are the server's receive times: client clocks and
 *                     copy-pasted `ts` values are not trustworthy enough to measure gaps.
 */

import { createHash } from "node:crypto";
import { canonicalJson } from "@rtt/core";
import type { BeaconPayload, BeaconResponse, DriftKind, DriftEvent as WireDriftEvent } from "@rtt/sdk";

export type { DriftKind };

export const HEARTBEAT_EVENTS: ReadonlySet<string> = new Set(["heartbeat", "cluster_heartbeat"]);
export const MIN_CADENCE_SAMPLES = 3;
export const MAX_CADENCE_SAMPLES = 10;
export const MISSED_FACTOR = 2;

export const DRIFT_KINDS: readonly DriftKind[] = [
  "structure_change",
  "baseline_drift",
  "deploy_drift",
  "missed_heartbeat",
];

export type Structure = Record<string, unknown>;

/** The SDK's BeaconPayload as drift detection reads it (and stores return it): `event` and `structure` widened. */
export interface Beacon extends Omit<BeaconPayload, "event" | "structure"> {
  event: string;
  structure: Structure;
}

export type DriftState = BeaconResponse["drift_state"];

/** Everything drift detection needs to remember about a site between beacons. */
export interface SiteState {
  site: string;
  first_seen: number;
  last_seen: number;
  last_event: string;
  beacons: number;
  fingerprint: string;
  structure: Structure;
  baseline: { fingerprint: string; structure: Structure; at: number } | null;
  deploy: { fingerprint: string; structure: Structure; at: number } | null;
  drift_state: DriftState;
  /** Recent heartbeat-to-heartbeat gaps in ms, oldest first. */
  gaps: number[];
  /** Whether the site ever sent cluster_heartbeat (drives the default metric label, see metrics.ts). */
  cluster_seen: boolean;
}

export interface StructureChange {
  key: string;
  from: unknown;
  to: unknown;
}

/** The SDK's DriftEvent before storing: no id yet, `at` in epoch ms (the wire has RFC 3339). */
export interface DriftEvent extends Omit<WireDriftEvent, "id" | "at"> {
  id?: number;
  /** Receive time of the beacon that revealed the drift, epoch ms. */
  at: number;
}

/** 16 hex characters of the SHA-256 of a text. */
const hash16 = (text: string) => createHash("sha256").update(text).digest("hex").slice(0, 16);

/** Stable structural fingerprint: sha256 of canonical JSON (sorted keys), 16 hex chars. */
export function fingerprint(structure: Structure): string {
  return hash16(canonicalJson(structure));
}

/** Changes listed in one drift event; `changes_omitted` counts the rest (they are stored with every event). */
export const MAX_DRIFT_CHANGES = 20;
/** A changed value whose JSON is longer than this is shown as its size and fingerprint, not copied. */
export const MAX_CHANGE_VALUE_CHARS = 256;

/** Top-level structure keys whose values differ (the "drift vector"). */
export function diffStructure(a: Structure, b: Structure): StructureChange[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  const changes: StructureChange[] = [];
  for (const key of keys) {
    if (canonicalJson(a[key]) !== canonicalJson(b[key]))
      changes.push({ key, from: a[key] ?? null, to: b[key] ?? null });
  }
  return changes;
}

/**
 * The drift vector as events carry it: the first MAX_DRIFT_CHANGES changes, large values elided. Without the
 * bounds a beacon of 100,000 changed keys answered 4 MB, and every later beacon of its site again.
 */
export function driftVector(a: Structure, b: Structure): { changes: StructureChange[]; changes_omitted?: number } {
  const all = diffStructure(a, b);
  const changes = all
    .slice(0, MAX_DRIFT_CHANGES)
    .map((c) => ({ key: c.key, from: shownValue(c.from), to: shownValue(c.to) }));
  return all.length > changes.length ? { changes, changes_omitted: all.length - changes.length } : { changes };
}

function shownValue(v: unknown): unknown {
  const text = canonicalJson(v);
  if (text.length <= MAX_CHANGE_VALUE_CHARS) return v;
  return { elided_chars: text.length, fingerprint: hash16(text) };
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Observed cadence in ms, or null while fewer than MIN_CADENCE_SAMPLES gaps are known. */
export function cadenceMs(state: Pick<SiteState, "gaps">): number | null {
  return state.gaps.length >= MIN_CADENCE_SAMPLES ? median(state.gaps) : null;
}

/** A site is overdue when it has been silent for more than 2× its cadence and did not shut down. */
export function isOverdue(state: SiteState, now: number): boolean {
  const cadence = cadenceMs(state);
  return cadence !== null && state.last_event !== "shutdown" && now - state.last_seen > MISSED_FACTOR * cadence;
}

export function applyBeacon(
  prev: SiteState | undefined,
  beacon: Beacon,
  now: number,
): { state: SiteState; drift: DriftEvent[] } {
  const fp = fingerprint(beacon.structure);
  const snap = { fingerprint: fp, structure: beacon.structure, at: now };
  const drift: DriftEvent[] = [];
  const emit = (kind: DriftKind, details: Record<string, unknown>) =>
    drift.push({ site: beacon.site, kind, at: now, session: beacon.session, event: beacon.event, details });

  if (!prev) {
    const state: SiteState = {
      site: beacon.site,
      first_seen: now,
      last_seen: now,
      last_event: beacon.event,
      beacons: 1,
      fingerprint: fp,
      structure: beacon.structure,
      baseline: beacon.event === "deploy_finish" ? snap : null,
      deploy: beacon.event === "deploy_start" ? snap : null,
      drift_state:
        beacon.event === "deploy_finish" ? "baseline" : beacon.event === "deploy_start" ? "deploying" : "no_baseline",
      gaps: [],
      cluster_seen: beacon.event === "cluster_heartbeat",
    };
    return { state, drift };
  }

  const state: SiteState = {
    ...prev,
    last_seen: now,
    last_event: beacon.event,
    beacons: prev.beacons + 1,
    fingerprint: fp,
    structure: beacon.structure,
    gaps: prev.gaps,
    cluster_seen: prev.cluster_seen || beacon.event === "cluster_heartbeat",
  };

  // Cadence and missed heartbeats.
  const gap = Math.max(0, now - prev.last_seen);
  const cadence = cadenceMs(prev);
  if (cadence !== null && prev.last_event !== "shutdown" && gap > MISSED_FACTOR * cadence) {
    emit("missed_heartbeat", { gap_ms: gap, cadence_ms: cadence, missed: Math.max(1, Math.floor(gap / cadence) - 1) });
  } else if (HEARTBEAT_EVENTS.has(beacon.event) && HEARTBEAT_EVENTS.has(prev.last_event)) {
    state.gaps = [...prev.gaps, gap].slice(-MAX_CADENCE_SAMPLES);
  }

  const inDeploy = prev.deploy !== null;
  if (beacon.event === "deploy_finish" && inDeploy) {
    if (fp !== prev.deploy!.fingerprint) {
      emit("deploy_drift", {
        from: prev.deploy!.fingerprint,
        to: fp,
        deploy_started_at: new Date(prev.deploy!.at).toISOString(),
        ...driftVector(prev.deploy!.structure, beacon.structure),
      });
    }
  } else if (!inDeploy && fp !== prev.fingerprint) {
    emit("structure_change", {
      from: prev.fingerprint,
      to: fp,
      ...driftVector(prev.structure, beacon.structure),
    });
  }

  if (beacon.event === "deploy_finish") {
    state.baseline = snap;
    state.deploy = null;
    state.drift_state = "baseline";
  } else if (beacon.event === "deploy_start") {
    // A second deploy_start inside an open window keeps the first one: the window spans both.
    state.deploy = prev.deploy ?? snap;
    state.drift_state = "deploying";
  } else if (!inDeploy && prev.baseline) {
    const off = fp !== prev.baseline.fingerprint;
    if (off && prev.drift_state !== "drifted") {
      emit("baseline_drift", {
        baseline: prev.baseline.fingerprint,
        to: fp,
        baseline_at: new Date(prev.baseline.at).toISOString(),
        ...driftVector(prev.baseline.structure, beacon.structure),
      });
    }
    state.drift_state = off ? "drifted" : "baseline";
  }
  return { state, drift };
}
