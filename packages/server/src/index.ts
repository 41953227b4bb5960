export {
  type ErrorBody,
  type ErrorCode,
  type ErrorDetail,
  HTTP_ERRORS,
  HttpError,
  type HttpErrorCode,
  httpError,
  installErrorHandler,
  STARTUP_ERRORS,
  type StartupErrorCode,
} from "@rtt/http";
export { type AppOptions, type BuiltApp, buildApp } from "./app.js";
export { DEFAULTS, isPostgresUrl, parseSize, type ServerOptions } from "./config.js";
export type { AppContext } from "./context.js";
export { fillDemo } from "./demo.js";
export { SessionEmitter } from "./emit.js";
export { type Access, AUTH_COOKIE, type GuardOptions, installGuard } from "./guard.js";
export { Metrics } from "./metrics.js";
export { bearerMatches, isLoopbackHost } from "./security.js";
export { referenceSelfCheck, SelfCheckMonitor } from "./self-check.js";
export { type RunningServer, type StartOptions, StartupError, startServer } from "./server.js";
export { describeStore, openStore } from "./store/open.js";
export { PostgresStore } from "./store/postgres.js";
export { SqliteStore } from "./store/sqlite.js";
export type * from "./store/types.js";
