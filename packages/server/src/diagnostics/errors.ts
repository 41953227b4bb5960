/**
 * The one error shape of the diagnostics API: 400 {error, details:[{path, message}]} where path is a
 * JSON pointer into the request body ("/flows/0/from") or names the URL part ("query/site").
 */
export interface ErrorDetail {
  path: string;
  message: string;
}

export class InputError extends Error {
  readonly statusCode: number;
  constructor(
    message: string,
    readonly details: ErrorDetail[],
    statusCode = 400,
  ) {
    super(message);
    this.statusCode = statusCode;
  }
}
