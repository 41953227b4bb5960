export { exampleTracesDir, seedDemoTraces, seedDemoTracesInto } from "./demo.js";
export { CTF_CHANNEL, PgCtfStore, type PgCtfStoreOptions } from "./pg-store.js";
export { type CtfPluginOptions, ctfPlugin } from "./plugin.js";
export { CtfStore, ID_PATTERN, type TraceListing, type TraceStamp, type TraceStore } from "./store.js";
