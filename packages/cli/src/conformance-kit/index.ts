/**
 * The cross-language conformance kit behind `rtt conformance`: runs another implementation against the spec's cases
 * (spec/v1/conformance_cases.json) and judges its replies. Not core's reference check (`checkReference`) nor the
 * server's SelfCheckMonitor.
 */
export * from "./badge.js";
export * from "./cases.js";
export * from "./harness.js";
export * from "./judge.js";
export * from "./junit.js";
export { Implementation, type Outcome } from "./process.js";
