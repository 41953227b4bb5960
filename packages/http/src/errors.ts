import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { HTTP_ERRORS, type HttpErrorCode } from "./error-codes.js";

/**
 * One located problem: a JSON pointer into the document (or a URL part such as `query/site`), or a 1-based
 * NDJSON line. The diagnostics API always gives `path`.
 */
export interface ErrorDetail {
  path?: string;
  line?: number;
  message: string;
}

export interface ErrorBody {
  error: string;
  /** The stable RTT_ERR_* code (error-codes.ts). */
  code: HttpErrorCode;
  details?: ErrorDetail[];
  /** A route's own fields beside `error`, e.g. a rejected CTF append's `accepted`, `body_line` and `issues`. */
  [field: string]: unknown;
}

export interface HttpErrorOptions {
  /** Response headers, e.g. Retry-After. */
  headers?: Record<string, string>;
  /** Added to the body after `error`, `code` and `details` (never named like those). */
  extra?: Record<string, unknown>;
}

/**
 * The one error type of the server: a status, a stable code and a message safe to show the client, with optional
 * located details, headers and route-specific body fields. Subclasses only preset status and code.
 */
export class HttpError extends Error {
  readonly headers?: Record<string, string>;
  readonly extra?: Record<string, unknown>;
  constructor(
    readonly statusCode: number,
    readonly code: HttpErrorCode,
    message: string,
    readonly details?: ErrorDetail[],
    opts: HttpErrorOptions = {},
  ) {
    super(message);
    this.name = "HttpError";
    this.headers = opts.headers;
    this.extra = opts.extra;
  }
  /** `{error, code, details?, ...extra}`; with `alwaysDetails` an empty `details` list is kept. */
  body(alwaysDetails = false): ErrorBody {
    const body: ErrorBody = { error: this.message, code: this.code };
    if (this.details?.length || alwaysDetails) body.details = this.details ?? [];
    return this.extra ? { ...body, ...this.extra } : body;
  }
}

/** An HttpError with the status of its code in the table (error-codes.ts) and, by default, the table's message. */
export function httpError(
  code: HttpErrorCode,
  message: string = HTTP_ERRORS[code].message,
  details?: ErrorDetail[],
  opts?: HttpErrorOptions,
): HttpError {
  return new HttpError(HTTP_ERRORS[code].status, code, message, details, opts);
}

/** Fastify's own client-error codes, mapped to a code and a message that never echoes internals. */
const FASTIFY_CLIENT_ERRORS: Record<string, [HttpErrorCode, string]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: ["RTT_ERR_TOO_LARGE", "request body is larger than the server's limit"],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: ["RTT_ERR_UNSUPPORTED_MEDIA_TYPE", "unsupported content type"],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: ["RTT_ERR_INVALID_BODY", "content-length does not match the body"],
  FST_ERR_CTP_EMPTY_JSON_BODY: ["RTT_ERR_INVALID_BODY", "empty JSON body"],
  FST_ERR_CTP_INVALID_JSON_BODY: ["RTT_ERR_INVALID_BODY", "body is not valid JSON"],
  FST_ERR_BAD_URL: ["RTT_ERR_BAD_URL", "malformed URL"],
  FST_ERR_ASYNC_CONSTRAINT: ["RTT_ERR_BAD_REQUEST", "bad request"],
};

/** The code of a client error that carries only a status (Fastify's validation, a plugin's error). */
const CODE_OF_STATUS: Record<number, HttpErrorCode> = {
  401: "RTT_ERR_UNAUTHORIZED",
  403: "RTT_ERR_FORBIDDEN",
  404: "RTT_ERR_NOT_FOUND",
  409: "RTT_ERR_CONFLICT",
  413: "RTT_ERR_TOO_LARGE",
  415: "RTT_ERR_UNSUPPORTED_MEDIA_TYPE",
};

/** How one encapsulated scope words its errors; the handler is the same everywhere. */
export interface ErrorScope {
  /** This scope's own wording of errors it does not throw itself (e.g. Fastify's body errors); undefined = default. */
  translate?: (err: FastifyError, req: FastifyRequest) => HttpError | undefined;
  /** Every body carries `details`, an empty list when there are none (the diagnostics API's contract). */
  alwaysDetails?: boolean;
}

/** Any error as the HttpError it is answered with. */
export function toHttpError(err: FastifyError | HttpError, req: FastifyRequest, scope: ErrorScope = {}): HttpError {
  if (err instanceof HttpError) return err;
  const own = scope.translate?.(err, req);
  if (own) return own;
  const known = err.code ? FASTIFY_CLIENT_ERRORS[err.code] : undefined;
  if (known) return httpError(known[0], known[1]);
  const status = typeof err.statusCode === "number" ? err.statusCode : 500;
  if (status >= 400 && status < 500) {
    if (status === 429) return httpError("RTT_ERR_RATE_LIMITED");
    // Fastify's validation and parser errors: their message describes the input, not the server.
    if (err.validation) return new HttpError(status, "RTT_ERR_INVALID_INPUT", `invalid request: ${err.message}`);
    return new HttpError(status, CODE_OF_STATUS[status] ?? "RTT_ERR_BAD_REQUEST", err.message);
  }
  return httpError("RTT_ERR_INTERNAL", undefined, undefined, { extra: { request_id: req.id } });
}

/**
 * The single error handler, installed in every scope that answers errors (the app, the diagnostics API, the CTF
 * plugin when embedded alone): client mistakes become 4xx with `{error, code, details?}`; a store busy with another
 * writer is a 503 with Retry-After (nothing was stored, the same request may succeed shortly); anything else is a
 * 500 with a request id to correlate. Every 5xx is logged with its stack (never the request body).
 */
export function errorHandler(scope: ErrorScope = {}) {
  return (err: FastifyError | HttpError, req: FastifyRequest, reply: FastifyReply) => {
    const e = toHttpError(err, req, scope);
    if (e.statusCode >= 500) {
      const entry = { err, code: e.code, reqId: req.id };
      if (e.statusCode === 503) req.log.warn(entry, "request not served, retry");
      else req.log.error(entry, "request failed");
    }
    if (e.headers) reply.headers(e.headers);
    return reply.code(e.statusCode).send(e.body(scope.alwaysDetails));
  };
}

export function installErrorHandler(app: FastifyInstance, scope: ErrorScope = {}): void {
  app.setErrorHandler(errorHandler(scope));
}

/**
 * The database is locked by another writer for longer than the store waits (SQLite's busy timeout): the sessions
 * store and the diagnostics store, which share one SQLite file, both answer it. Nothing of the failed call was
 * written and nothing is wrong with the input: the same request may succeed a moment later, so the HTTP layer
 * answers 503 with Retry-After.
 */
export class StoreBusyError extends HttpError {
  /** Seconds a client should wait before retrying. */
  readonly retryAfterSeconds = 1;
  constructor(message: string = HTTP_ERRORS.RTT_ERR_STORE_BUSY.message) {
    super(HTTP_ERRORS.RTT_ERR_STORE_BUSY.status, "RTT_ERR_STORE_BUSY", message, undefined, {
      headers: { "retry-after": "1" },
    });
    this.name = "StoreBusyError";
  }
}
