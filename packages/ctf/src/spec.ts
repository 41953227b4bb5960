import { readSpecSchema, specPath } from "@rtt/core";
import type { CTFEventType } from "./types.js";

/** spec/ctf/v0.1 holds the event schemas; code reads them instead of re-typing them. Located by @rtt/core (`specDir`). */
export const CTF_SPEC = "ctf/v0.1";

/** The absolute path of spec/ctf/v0.1 (RTT_SPEC_DIR names the spec/ folder; see @rtt/core `specDir`). */
export function ctfSpecDir(): string {
  return specPath(CTF_SPEC);
}

/** One CTF schema, parsed and cached by @rtt/core: shared, do not mutate. */
export function readCtfSchema(name: CTFEventType | "corridor_spec"): Record<string, unknown> {
  return readSpecSchema(`${CTF_SPEC}/${name}.schema.json`);
}
