export {
  type CTFDiff,
  type DiffField,
  type DiffSide,
  differsAt,
  diffSide,
  diffSides,
  diffTraces,
  formatDiff,
  lineageLength,
  type MetricDelta,
  observationSnippets,
  type StepRef,
  stepRef,
  type TraceFacts,
} from "./diff.js";
export { DIFF_LOAD_OPTIONS, loadDiffSide, loadDiffSides, loadDiffSideText } from "./diff-load.js";
export { type ChromeTraceEvent, type ExportInput, type OtlpSpan, toChromeTrace, toOtlp, toUnixNano } from "./export.js";
export {
  type CTFLine,
  CTFReader,
  type LineHandler,
  parseCTFRawLines,
  parseCTFText,
  type RawLineHandler,
  readCTFFile,
  readCTFRawLines,
} from "./reader.js";
export { type Corridor, type CorridorOptions, createCorridor, type StepInput, type StepResult } from "./runtime.js";
export { validateEventSchema } from "./schema.js";
export { ctfSpecDir, readCtfSchema } from "./spec.js";
export { CRITICAL_STREAK, round6, type StatusResult, type StepNode, StepTree } from "./step-tree.js";
export { formatSummary, loadEvents, loadEventsText, sparkline, summarize, type TraceSummary } from "./summary.js";
export { cosine, type Embedder, forEachToken, TermVector, TfIdfCorpus, termCounts } from "./text.js";
export { computeMissingQ, type LoadedTrace, type LoadOptions, loadTrace, loadTraceText } from "./trace.js";
export * from "./types.js";
export {
  CTFValidator,
  type ValidationReport,
  type ValidatorOptions,
  validateCTFFile,
  validateCTFText,
} from "./validator.js";
export { type CTFSink, CTFWriter, type CTFWriterOptions, MemorySink } from "./writer.js";
