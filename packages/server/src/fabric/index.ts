/** The Fabric view's read routes (/fabric/*) over a fabric root: its daemon, WAL and plans. */
export { type FabricPluginOptions, fabricPlugin, resolveFabricRoot } from "./plugin.js";
export type * from "./types.js";
