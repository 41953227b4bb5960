import { FabricError, type FabricErrorCode, isFabricError } from "../errors.js";
import type { Transition } from "../reconcile/participant.js";

/**
 * The daemon's control protocol (spec/fabric/daemon.md, "Control protocol"): a request is a frame with FLAG_CONTROL,
 * route_id 0, a client-chosen frame_id and a JSON payload `{op, …}`; the answer carries the same frame_id with
 * FLAG_CONTROL|FLAG_RESPONSE and the result as JSON, or FLAG_ERROR too and `{code, message}`.
 * Data frames (no FLAG_CONTROL) carry a call: route_id of a route in force, the request bytes as payload; the answer
 * has FLAG_RESPONSE (plus FLAG_ERROR and `{code, message}` on failure) and the same route_id and frame_id.
 */
export const PROTOCOL_VERSION = 1;

export type ControlRequest =
  | { op: "hello" }
  | { op: "resolve"; symbol: string }
  | { op: "status" }
  | { op: "flight" }
  | { op: "state" }
  | { op: "prepare"; transition: Transition }
  | { op: "commit"; transition: Transition }
  | { op: "abort"; transition: Transition }
  | { op: "open"; symbol: string; token?: unknown }
  | { op: "tx"; symbol: string; token?: unknown }
  | { op: "shm_open"; symbol?: string; route_id?: number; capacity?: number; token?: unknown }
  | { op: "shm_close"; lane: string };

export const CONTROL_OPS = new Set([
  "hello",
  "resolve",
  "status",
  "flight",
  "state",
  "prepare",
  "commit",
  "abort",
  "open",
  "tx",
  "shm_open",
  "shm_close",
]);

/** Operations that change what the daemon serves: only on the control socket (UDS, 0600), never over TCP. */
export const UDS_ONLY_OPS = new Set(["prepare", "commit", "abort", "shm_open", "shm_close"]);

export interface ResolvedRoute {
  route_id: number;
  from: string;
  to: string;
  lane: "shm" | "uds" | "tcp";
}

export interface ShmLaneInfo {
  lane: string;
  route_id: number;
  /** Ring names (POSIX shm, /dev/shm/<name without the slash>): the client writes `req`, reads `resp`. */
  req: string;
  resp: string;
  capacity: number;
}

export interface WireError {
  code: string;
  message: string;
}

const enc = new TextEncoder();
const dec = new TextDecoder("utf-8", { fatal: true });

export const jsonBytes = (v: unknown): Uint8Array => enc.encode(JSON.stringify(v));
export const parseJsonBytes = (b: Uint8Array): unknown => JSON.parse(dec.decode(b));

/** An error as it travels in an error frame. */
export function wireError(e: unknown): Uint8Array {
  const w: WireError = isFabricError(e)
    ? { code: e.code, message: e.message }
    : { code: "RTT_FABRIC_DRIVER", message: e instanceof Error ? e.message : String(e) };
  return jsonBytes(w);
}

/** The FabricError an error frame's payload stands for. */
export function fromWire(b: Uint8Array): FabricError {
  try {
    const w = parseJsonBytes(b) as WireError;
    return new FabricError((w.code as FabricErrorCode) ?? "RTT_FABRIC_DRIVER", String(w.message));
  } catch {
    return new FabricError("RTT_FABRIC_DRIVER", "an error frame whose payload is not {code, message}");
  }
}
