/** Capability tokens (seed 004, "Capability Tokens"; spec/fabric/tokens.md). */
export { NonceCache } from "./nonces.js";
export {
  type CapabilityToken,
  type Clock,
  checkToken,
  formatTokenTime,
  type IssueRequest,
  issueToken,
  MAX_TOKEN_BYTES,
  MAX_TOKEN_TTL_MS,
  parseTokenTime,
  TOKEN_REFUSALS,
  TOKEN_VERBS,
  type TokenCheck,
  type TokenCheckContext,
  TokenCounters,
  type TokenRefusal,
  type TokenVerb,
  type TokenWant,
} from "./token.js";
