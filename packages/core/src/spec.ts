import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Sample } from "./types.js";

/**
 * The spec/ folder is the single source of truth; code reads it rather than re-typing it.
 * It is found through RTT_SPEC_DIR, or by walking up from this module (works from src/ under Vitest and from dist/).
 */
export function specDir(): string {
  const fromEnv = process.env.RTT_SPEC_DIR;
  if (fromEnv) return resolve(fromEnv);
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, "spec");
    if (existsSync(join(candidate, "v1", "rttinside_session_schema.json"))) return candidate;
    const parent = dirname(dir);
    if (parent === dir)
      throw new Error("RTT spec/ folder not found: set RTT_SPEC_DIR to the folder holding v1/ and v2/");
    dir = parent;
  }
}

/** The absolute path of a file or folder below spec/, e.g. `specPath("beacon", "beacon.schema.json")`. */
export function specPath(...relPath: string[]): string {
  return join(specDir(), ...relPath);
}

const cache = new Map<string, unknown>();

/**
 * Reads and caches a JSON file below spec/, e.g. `readSpecJson("v1/reference_samples.json")`.
 * The value is shared by every caller: do not mutate it.
 */
export function readSpecJson<T = unknown>(relPath: string): T {
  let value = cache.get(relPath);
  if (value === undefined) {
    value = JSON.parse(readFileSync(specPath(relPath), "utf8"));
    cache.set(relPath, value);
  }
  return value as T;
}

/** A JSON Schema below spec/ by its spec-relative path, e.g. `readSpecSchema("ctf/v0.1/step.schema.json")`. */
export const readSpecSchema = (relPath: string) => readSpecJson<Record<string, unknown>>(relPath);

export interface ReferenceVector {
  initial_state: { t: number; C: number; D: number; Q: number; R: number };
  dt: number;
  steps: number;
  numeric_tolerance: number;
  meta: { device: string; scenario: string; difficulty: string };
}

export interface ReferenceSegmentSet {
  id: string;
  device_type: string;
  scenario: string;
  difficulty: string;
  segments: Record<string, { required: boolean; samples: Sample[] }>;
}

export interface ReferenceSegments {
  spec_version: "v2";
  engine_version: string;
  numeric_tolerance: number;
  validate_all_segments: boolean;
  reference_sets: ReferenceSegmentSet[];
}

export const referenceVector = () => readSpecJson<ReferenceVector>("v1/reference_vector.json");
export const referenceSamples = () => readSpecJson<Sample[]>("v1/reference_samples.json");
/** The v2 flat reference track (seed layout: spec/v2/new_reference_samples.json; identical to v1's, same engine). */
export const newReferenceSamples = () => readSpecJson<Sample[]>("v2/new_reference_samples.json");
export const referenceSegments = () => readSpecJson<ReferenceSegments>("v2/reference_segments.json");
export const segmentLabels = () => readSpecJson<{ labels: string[] }>("v2/segment_labels.json").labels;
export const schemaV1 = () => readSpecSchema("v1/rttinside_session_schema.json");
export const schemaV2 = () => readSpecSchema("v2/rttinside_session_schema.json");
/** The project's rules beyond the seed's v2 schema: warnings with stable codes (errors under --strict). */
export const profileV2 = () => readSpecSchema("v2/rtt_profile.schema.json");
