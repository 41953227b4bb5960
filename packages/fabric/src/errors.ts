/**
 * Every error code the fabric gives out, in one table: code → the CLI exit code and what it means. Errors name the
 * file or object (`where`) and the reason; callers and the CLI branch on `code`, never on the message. Codes are
 * stable: add new ones, never rename or reuse one. Exit codes follow rtt's: 1 usage or unreadable input, 2 input
 * that is read but refused (invalid, corrupt, untrusted).
 */
export const FABRIC_ERRORS = {
  /** A file or directory that does not exist or cannot be read. */
  RTT_FABRIC_UNREADABLE: { exit: 1, message: "cannot read" },
  /** Bytes that are not JSON, or JSON nested too deep, with repeated keys or a `__proto__`/`constructor` key. */
  RTT_FABRIC_NOT_JSON: { exit: 2, message: "not valid JSON" },
  /** JSON that breaks its schema in spec/fabric/. */
  RTT_FABRIC_INVALID: { exit: 2, message: "invalid document" },
  /** A stored object whose bytes do not hash to its name, a bad CRC, a truncated pack or index. */
  RTT_FABRIC_CORRUPT: { exit: 2, message: "corrupt registry data" },
  /** An object, id or version that is not in the registry. */
  RTT_FABRIC_NOT_FOUND: { exit: 2, message: "not found" },
  /** A path (or symlink) that leads outside the directory it must stay in. */
  RTT_FABRIC_ESCAPE: { exit: 2, message: "path escapes its root" },
  /** A signature that does not verify, by an unknown, untrusted or revoked key; or no signature under strict mode. */
  RTT_FABRIC_UNTRUSTED: { exit: 2, message: "signature not trusted" },
  /** An MCP server that could not be started, hung, exited or answered outside the protocol. */
  RTT_FABRIC_MCP: { exit: 2, message: "MCP server failed" },
  /** Bad command-line usage (unknown option value, missing argument). */
  RTT_FABRIC_USAGE: { exit: 1, message: "usage" },
  /** A plan computed against a plan (or inputs) no longer in force: rebuild it (Nomad's plan applier rule). */
  RTT_FABRIC_STALE: { exit: 2, message: "plan is stale" },
  /** Another apply or rollback holds `.rtt/fabric.lock` (its pid is alive): one transition at a time. */
  RTT_FABRIC_BUSY: { exit: 1, message: "another apply is running" },
  /** A participant voted no at PREPARE: the plan was aborted and nothing changed. */
  RTT_FABRIC_NACK: { exit: 2, message: "a participant refused the plan" },
  /** Post-conditions or SLO checks failed after COMMIT: the plan was rolled back to the one before it. */
  RTT_FABRIC_VERIFY_FAILED: { exit: 2, message: "verify failed after commit" },
  /** No fabric daemon answers on the socket, or another one already serves it (`rtt fabric up`). */
  RTT_FABRIC_DAEMON: { exit: 1, message: "fabric daemon unavailable" },
  /** A call to a symbol or route_id the routing table in force has no route for. */
  RTT_FABRIC_NO_ROUTE: { exit: 2, message: "no route" },
  /** A call refused by back-pressure: in-flight cap, a full queue or ring under the `drop` policy, or a bound hit. */
  RTT_FABRIC_OVERLOAD: { exit: 1, message: "overloaded" },
  /** A call that got no answer in time. */
  RTT_FABRIC_TIMEOUT: { exit: 1, message: "timed out" },
  /** A driver that is missing, not running, exited mid-call or answered outside the driver protocol. */
  RTT_FABRIC_DRIVER: { exit: 2, message: "driver failed" },
  /** A driver that must run sandboxed cannot be: bubblewrap is missing or cannot build a sandbox on this machine. */
  RTT_FABRIC_SANDBOX: { exit: 2, message: "driver sandbox unavailable" },
  /** A route operation without an acceptable capability token (missing, forged, expired, replayed, wrong verb/scope). */
  RTT_FABRIC_UNAUTHORIZED: { exit: 2, message: "capability token refused" },
  /** The NATS cluster cannot be used for this: unreachable (the node runs alone), no node alive to take a plan. */
  RTT_FABRIC_CLUSTER: { exit: 1, message: "cluster unavailable" },
  /** A tuned profile (.rtt/tuned/profile.json) made on another machine: a different CPU model or NUMA topology. */
  RTT_FABRIC_TUNED_FOREIGN: { exit: 2, message: "tuned profile is for another machine" },
} as const;

export type FabricErrorCode = keyof typeof FABRIC_ERRORS;

export class FabricError extends Error {
  override readonly name = "FabricError";
  constructor(
    readonly code: FabricErrorCode,
    message: string,
    /** The file, object hash or id the error is about. */
    readonly where?: string,
  ) {
    super(where ? `${where}: ${message}` : message);
  }

  get exitCode(): number {
    return FABRIC_ERRORS[this.code].exit;
  }
}

export const isFabricError = (e: unknown): e is FabricError => e instanceof FabricError;
