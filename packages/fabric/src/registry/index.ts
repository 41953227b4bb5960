/** The registry's public API (re-exported by @rtt/fabric). */
import { gc } from "./gc.js";
import { ingest } from "./ingest.js";
import { rebuildIndexFile } from "./packed.js";
import type { Registry } from "./registry.js";

export type { GcOptions, GcReport } from "./gc.js";
export { type IndexMap, listIndex, type Resolved, resolveRef, type SymbolMap } from "./index-json.js";
export type { IngestOptions, IngestReport } from "./ingest.js";
export { openRegistry, type PutResult, Registry, type RegistryOptions } from "./registry.js";
export { type VerifyOptions, type VerifyProblem, type VerifyReport, verifyRegistry } from "./verify.js";
export const ingestRegistry = ingest;
export const gcRegistry = gc;
/** `rtt registry index --rebuild`, under the registry's write lock. */
export const rebuildRegistryIndex = (registry: Registry) => registry.writing(() => rebuildIndexFile(registry.packed));
