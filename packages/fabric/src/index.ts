/** The public API of @rtt/fabric (seed 004). Each part lives in its own folder; this file lists what others use. */

export { writeFileAtomic } from "./atomic.js";
export * from "./autotune/index.js";
export { canonicalBytes, canonicalText, HASH_RE, hashOf, sha256Hex } from "./canonical.js";
export * from "./caps/index.js";
export * from "./cluster/index.js";
export { crc32c } from "./crc32c.js";
export * from "./daemon/index.js";
export { FABRIC_ERRORS, FabricError, type FabricErrorCode, isFabricError } from "./errors.js";
export { parseJsonText, prettyJson, readJsonFile } from "./json-file.js";
export {
  encodeFrame,
  FLAG_CONTROL,
  FLAG_ERROR,
  FLAG_RESPONSE,
  FRAME_HEADER,
  type Frame,
  type FrameDrop,
  type FrameHeader,
  FrameReader,
  MAX_FRAME_PAYLOAD,
} from "./lanes/frame.js";
export { type RingDrops, type RingFrame, ShmRing } from "./lanes/shm-ring.js";
export { FrameSocket } from "./lanes/stream.js";
export { connectTcp, listenTcp, parseHostPort } from "./lanes/tcp.js";
export { connectUds, listenUds, socketAlive } from "./lanes/uds.js";
export { commandLabel, DEFAULT_TIMEOUT_MS, listServerTools, type ServerListing } from "./mcp/client.js";
export { ingestMcp, type McpIngestOptions, type McpIngestResult } from "./mcp/ingest.js";
export {
  encodeToolName,
  type McpManifest,
  manifestVersion,
  normalizeServerName,
  toolOfSymbol,
  toolSymbol,
} from "./mcp/manifest.js";
export { type McpTool, readToolsFile, toolsFromList } from "./mcp/tools-file.js";
export { type FabricPaths, fabricPaths, registryLayout } from "./paths.js";
export { type Check, type Model, PLAN_CODES, type PlanCode } from "./planner/constraints.js";
export {
  diffPlans,
  diffSize,
  formatDiff,
  type PlacementChange,
  type PlanDiff,
  type RouteChange,
} from "./planner/diff.js";
export { type Explanation, explainRoute, formatExplanation } from "./planner/explain.js";
export {
  hashInputs,
  type LoadInputsOptions,
  loadInputs,
  normaliseInputs,
  type PlannerInputs,
  type RouteSpec,
} from "./planner/inputs.js";
export { DEFAULT_LATENCY } from "./planner/latency-model.js";
export { admissionWeights, loadHighs, solveAdmission } from "./planner/lp.js";
export { type BuildOptions, type BuildResult, buildPlan, planFile, planInForce, readPlan } from "./planner/plan.js";
export { meet as semverMeet, meetRanges } from "./planner/semver-meet.js";
export { LANES, type Lane, type Plan, type PlanRoute, type RejectedRoute } from "./planner/types.js";
export {
  computePlanId,
  type VerifiedPlan,
  type VerifyPlanOptions,
  verifyPlan,
} from "./planner/verify.js";
export * from "./reconcile/index.js";
export * from "./registry/index.js";
export * from "./sandbox/index.js";
export { assertSchema, FABRIC_SCHEMAS, type FabricSchema, type SchemaProblem, schemaProblems } from "./schemas.js";
export * from "./telemetry/index.js";
export {
  DEFAULT_KEY_NAME,
  DEFAULT_KEYS_DIR,
  formatPublicKey,
  generateKeyPair,
  KEY_ID_RE,
  type KeyPair,
  keyId,
  type ParsedPublicKey,
  parsePublicKey,
  publicKeyFromRaw,
  rawPublicKey,
  readPrivateKeyFile,
  readPublicKeyFile,
  type WrittenKeyPair,
  writeKeyPair,
} from "./trust/keys.js";
export {
  enforceTrust,
  isStrict,
  type Signature,
  type Signed,
  type StrictOptions,
  signDocument,
  signedBytes,
  type TrustOptions,
  type VerifyResult,
  type VerifyStatus,
  verifyDocument,
} from "./trust/sign.js";
export {
  emptyTrustStore,
  type KeyListing,
  type KeyStatus,
  listKeys,
  loadTrustStore,
  type Revocation,
  revokeKey,
  type TrustedKey,
  type TrustStore,
  trustKey,
  trustLayout,
} from "./trust/store.js";
export * from "./views/index.js";
export { encodeRecord as encodeWalRecord, MAGIC as WAL_MAGIC, type RecordType as WalRecordType } from "./wal/format.js";
export { leafHash, treeRoot, verifyInclusion } from "./wal/merkle.js";
export { type Checkpoint, type InclusionProof, PlanLog, type PlanState, verifyProof } from "./wal/plan-log.js";
export { scanWal, Wal, type WalRecord, type WalScan } from "./wal/wal.js";
