/**
 * @rtt/sdk — RTT-Inside for services. Seeds 001/002 import it as "./rtt-sdk/index.js" and
 * "./rtt-sdk/profile.js"; the same files are the package's subpath exports.
 */
export { DEFAULT_BASE_URL, RTTClient, type RTTClientOptions, type RTTLogger } from "./client.js";
export { RTTError, type RTTErrorDetail, type RTTErrorKind } from "./errors.js";
export { type Heartbeat, type HeartbeatOptions, startHeartbeat } from "./heartbeat.js";
export {
  annotateActiveSpan,
  type RttSpanContext,
  rttSpanAttributes,
  type SpanAttributes,
  type SpanLike,
  setRttSpanAttributes,
} from "./otel.js";
export { CAPABILITIES, type CreateProfileInput, create_profile, createProfile } from "./profile.js";
export type * from "./types.js";
export { build_validate_payload, buildValidatePayload } from "./validate.js";
