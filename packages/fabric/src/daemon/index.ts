/** The fabric daemon (seed 004 layer 3; spec/fabric/daemon.md): lanes, routing, drivers, 2PC participant. */

export * from "../mcp/fabric.js";
export { type AuthMode, RouteAuth, type RouteAuthOptions } from "./auth.js";
export { type CallOptions, FabricClient, ShmClientLane } from "./client.js";
export { type DaemonOptions, FabricDaemon } from "./daemon.js";
export {
  type CommandDriverOptions,
  type DriverDecl,
  type DriverTable,
  driverProcessSpec,
  type EndpointInfo,
  McpEndpoint,
  readDrivers,
} from "./endpoints.js";
export { type Backpressure, Limiter } from "./limiter.js";
export { DaemonParticipant, daemonAnswers, fabricParticipants } from "./participant.js";
export { type ControlRequest, PROTOCOL_VERSION, type ResolvedRoute, type ShmLaneInfo } from "./protocol.js";
export type { ShmServeMode } from "./shm-lane.js";
export { RoutingTable } from "./table.js";
