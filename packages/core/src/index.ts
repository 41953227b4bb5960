/**
 * The public API of @rtt/core: what the CLI, the server, @rtt/ctf, the benches and documented users call.
 * Internals (detectors, environment, runner, PRNG, columns) stay behind it; core's own tests reach them by path.
 */

export { upgradeV1ToV2 } from "./adapter.js";
export { type Ajv, type AjvMode, createAjv, type ErrorObject, type ValidateFunction } from "./ajv.js";
export {
  type CorridorState,
  type EngineInput,
  INPUT_COST_D,
  INPUT_GAIN_C,
  INPUT_SLEW_COST_D,
  REFERENCE_INITIAL_STATE,
  runSimulation,
  update,
} from "./engine.js";
export {
  canonicalJson,
  describeParseError,
  duplicateKeyMessage,
  escapePointer,
  exceedsDepth,
  findDuplicateKey,
  findNonFinite,
  inspectParsed,
  type JsonProblem,
  type JsonScan,
  jsonProblem,
  MAX_JSON_DEPTH,
  mayRepeatKey,
  type ParsedShape,
  scanJson,
  unescapePointer,
} from "./json-guard.js";
export { type ReferenceRunOptions, referenceRunV1, referenceRunV2 } from "./reference.js";
export { checkReference, compareSamples, type ReferenceCheckCode } from "./reference-check.js";
export { PROFILE_CODES, PROFILE_FALLBACK_CODE, validateProfile, validateSchema } from "./schema.js";
export {
  checkSemantics,
  findTimeSlips,
  SemanticCode,
  type SemanticOptions,
  type SemanticReport,
  TIME_SLIP_SEVERITY,
  TIME_SLIP_TYPE,
  type TimeSlip,
  timeSlipAnomaly,
} from "./semantic.js";
export {
  buildSessionV1,
  buildSessionV2,
  computeTopLevel,
  ENGINE_VERSION,
  isV2,
  maxSeverity,
  type SessionHeader,
  segmentsOf,
  type TopLevelCounts,
  type V2Options,
} from "./session.js";
export {
  type CurriculumReport,
  DEFAULT_OBJECTIVES,
  type DrillRecommendation,
  type Evidence,
  evaluateCurriculum,
  type ObjectiveResult,
} from "./sim/curriculum.js";
export { extractInputs, parseRecordedInputs, type RecordedInput } from "./sim/inputs.js";
export { sessionLogBuffer, sessionLogChunks, writeSessionLog } from "./sim/logWriter.js";
export {
  bandOf,
  initialMastery,
  MASTERY_BANDS,
  MAX_LEVEL,
  type MasteryBand,
  type MasteryState,
  masteryLadder,
  type Promotion,
  promote,
  promotionDelta,
} from "./sim/mastery.js";
export { POLICY_NAMES } from "./sim/policies.js";
export { fnv1a, mulberry32, type Rng, rngStream, seededRandom } from "./sim/prng.js";

export {
  type DifficultyTier,
  getScenario,
  listScenarios,
  type ScenarioDef,
} from "./sim/scenarios.js";
export { type SimulateOptions, simulateScenario, simulateSession } from "./sim/simulate.js";
export { type SessionSummary, summarizeSession } from "./sim/summary.js";
export {
  ANOMALY_TYPES,
  type AnomalyType,
  anomalyTaxonomy,
  type DetectorConfig,
  type DetectorConfigs,
  detectorConfigs,
  type Severity,
  severityOf,
  type Taxonomy,
  type TaxonomyType,
} from "./sim/taxonomy.js";
export {
  newReferenceSamples,
  profileV2,
  type ReferenceSegmentSet,
  type ReferenceSegments,
  type ReferenceVector,
  readSpecJson,
  readSpecSchema,
  referenceSamples,
  referenceSegments,
  referenceVector,
  schemaV1,
  schemaV2,
  segmentLabels,
  specDir,
  specPath,
} from "./spec.js";
export type {
  Anomaly,
  DeviceType,
  DimCore,
  Mode,
  Sample,
  SampleField,
  Scores,
  SET,
  Segment,
  SessionLog,
  SessionLogV1,
  SessionLogV2,
  SnrNode,
  SpecVersion,
  ValidationIssue,
  ValidationResult,
} from "./types.js";
export { SAMPLE_FIELDS } from "./types.js";
export { detectSpecVersion, formatIssue, type ValidateOptions, validateSessionLog } from "./validate.js";
