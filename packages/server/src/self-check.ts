import {
  ENGINE_VERSION,
  formatIssue,
  referenceRunV1,
  referenceRunV2,
  type ValidationIssue,
  validateSessionLog,
} from "@rtt/core";

export interface SelfCheckResult {
  ok: boolean;
  /** Human-readable cause when not ok. */
  reason?: string;
}

/** The default self-check: the reference engine's v1 and v2 runs must pass schema, semantics and conformance. */
export function referenceSelfCheck(): ValidationIssue[] {
  const at = new Date().toISOString();
  const issues: ValidationIssue[] = [];
  for (const [name, log] of [
    ["v1", referenceRunV1({ session_id: "RTT-SELF-CHECK-V1", timestamp: at })],
    ["v2", referenceRunV2({ session_id: "RTT-SELF-CHECK-V2", timestamp: at })],
  ] as const) {
    const r = validateSessionLog(log, { conformance: true });
    issues.push(...r.errors.map((e) => ({ ...e, message: `${name} reference run: ${e.message}` })));
  }
  return issues;
}

/**
 * The runner's self-check: runs the reference check (core's reference runs through schema, semantics and the
 * reference comparison) and keeps the last verdict for /healthz (its seed field `conformance`), the
 * rtt_runner_conformance_ok gauge and POST /validate. Not the CLI's cross-language kit (`rtt conformance`).
 */
export class SelfCheckMonitor {
  ok = false;
  lastValidationAt: string | null = null;
  reason: string | undefined;

  constructor(private readonly check: () => ValidationIssue[] = referenceSelfCheck) {}

  run(): SelfCheckResult {
    let issues: ValidationIssue[];
    try {
      issues = this.check();
    } catch (e) {
      issues = [{ code: "SELF_CHECK_CRASHED", path: "", message: e instanceof Error ? e.message : String(e) }];
    }
    this.ok = issues.length === 0;
    this.lastValidationAt = new Date().toISOString();
    this.reason = this.ok ? undefined : issues.slice(0, 5).map(formatIssue).join("; ");
    return { ok: this.ok, reason: this.reason };
  }

  health() {
    return {
      status: this.ok ? "ok" : "degraded",
      conformance: this.ok,
      engine_version: ENGINE_VERSION,
      spec_version: "v2",
      last_validation_at: this.lastValidationAt,
    };
  }
}
