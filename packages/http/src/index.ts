/**
 * @rtt/http: how every RTT HTTP API answers — one HttpError with a stable RTT_ERR_* code (error-codes.ts), one error
 * handler per scope, and route-schema validation whose one formatter words every failure. Used by the server, the
 * diagnostics API and the fabric's HTTP parts.
 */
export {
  type ErrorCode,
  HTTP_ERRORS,
  type HttpErrorCode,
  STARTUP_ERRORS,
  type StartupErrorCode,
} from "./error-codes.js";
export {
  type ErrorBody,
  type ErrorDetail,
  type ErrorScope,
  errorHandler,
  HttpError,
  type HttpErrorOptions,
  httpError,
  installErrorHandler,
  StoreBusyError,
  toHttpError,
} from "./errors.js";
export { OVERFLOW_LABEL } from "./labels.js";
export {
  type FormatOptions,
  formatSchemaErrors,
  installValidation,
  invalid,
  NO_QUERY,
  q,
  type RequestPart,
  type Schema,
  schemaErrorFormatter,
  TIMESTAMP_FORMAT,
} from "./validation.js";
