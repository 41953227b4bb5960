/**
 * The diagnostics API answers every bad input 400 (413 over a limit) `{error, code, details:[{path, message}]}`
 * where path is a JSON pointer into the request body ("/flows/0/from") or names the URL part ("query/site").
 * The error type and its detail are the one HttpError and ErrorDetail of @rtt/http.
 */
import { type ErrorDetail, HttpError } from "@rtt/http";

export type { ErrorDetail } from "@rtt/http";

/** Input the diagnostics API refuses: RTT_ERR_INVALID_INPUT (400), or RTT_ERR_TOO_LARGE (413) over a limit. */
export class InputError extends HttpError {
  constructor(message: string, details: ErrorDetail[], statusCode: 400 | 413 = 400) {
    super(statusCode, statusCode === 413 ? "RTT_ERR_TOO_LARGE" : "RTT_ERR_INVALID_INPUT", message, details);
    this.name = "InputError";
  }
}
