/** The View Engine (seed 004): base agent + provider overlay + environment overlay = a materialised provider view. */
export { type BuildViewOptions, type BuildViewResult, buildView } from "./build.js";
export { type AgentDiff, diffView, formatViewDiff, type OverlayDiff, type ViewDiff } from "./diff.js";
export {
  AGENT_NAME_RE,
  GLOBAL_OVERLAY,
  LAYER_NAME_RE,
  type OverlayLayer,
  VIEW_MANIFEST,
  type ViewLayout,
  viewLayout,
} from "./layout.js";
export {
  manifestPath,
  readViewManifest,
  type ViewFileRecord,
  type ViewInputRef,
  type ViewManifest,
  viewHashOf,
} from "./manifest.js";
export { DELETE_MARK, MERGE_KEYS, mergePatch } from "./merge.js";
export { type AgentPlan, OVERLAY_ORDER, planView, renderAgent, type ViewPlan } from "./plan.js";
export { viewTrust } from "./strict.js";
export { listViews, type VerifyViewOptions, verifyView } from "./verify.js";
