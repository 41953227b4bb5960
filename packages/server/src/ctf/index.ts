export { exampleTracesDir, seedDemoTraces } from "./demo.js";
export { type CtfPluginOptions, ctfPlugin } from "./plugin.js";
export { CtfStore, ID_PATTERN, type TraceListing } from "./store.js";
