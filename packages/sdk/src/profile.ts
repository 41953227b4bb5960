/**
 * Profile helpers (seed 002: `import { create_profile } from "./rtt-sdk/profile.js"`).
 * Checks what can be checked locally so mistakes fail at the call site, not as a 400 later.
 */
import type { Capability, Profile } from "./types.js";

export const CAPABILITIES: readonly Capability[] = ["coherence", "drift", "corridor", "topology"];

export interface CreateProfileInput {
  version: string;
  supports: Capability[];
  contact?: string;
  scope?: "service" | "cluster";
  name?: string;
  latency_budget_ms?: number;
}

export function createProfile(input: CreateProfileInput): Profile {
  if (typeof input?.version !== "string" || input.version.length === 0)
    throw new TypeError("createProfile: version must be a non-empty string");
  if (!Array.isArray(input.supports)) throw new TypeError("createProfile: supports must be an array");
  for (const s of input.supports) {
    if (!CAPABILITIES.includes(s))
      throw new TypeError(`createProfile: unknown capability ${JSON.stringify(s)} (known: ${CAPABILITIES.join(", ")})`);
  }
  const profile: Profile = { version: input.version, supports: [...new Set(input.supports)] };
  if (input.contact !== undefined) profile.contact = input.contact;
  if (input.scope !== undefined) profile.scope = input.scope;
  if (input.name !== undefined) profile.name = input.name;
  if (input.latency_budget_ms !== undefined) profile.latency_budget_ms = input.latency_budget_ms;
  return profile;
}

/** The seeds' snake_case spelling. */
export const create_profile = createProfile;
