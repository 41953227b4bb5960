import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { StoreBusyError } from "./store/types.js";

/** One located problem: a JSON pointer into the document, or a 1-based NDJSON line. */
export interface ErrorDetail {
  path?: string;
  line?: number;
  message: string;
}

export interface ErrorBody {
  error: string;
  details?: ErrorDetail[];
  /** A route's own fields beside `error`, e.g. a rejected CTF append's `accepted`, `body_line` and `issues`. */
  [field: string]: unknown;
}

/** An error that is the client's to fix: it carries its status and a body safe to show. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly details?: ErrorDetail[],
    readonly headers?: Record<string, string>,
    /** Added to the body after `error` and `details` (never named like those). */
    readonly extra?: Record<string, unknown>,
  ) {
    super(message);
    this.name = "HttpError";
  }
  body(): ErrorBody {
    const body: ErrorBody = this.details?.length
      ? { error: this.message, details: this.details }
      : { error: this.message };
    return this.extra ? { ...body, ...this.extra } : body;
  }
}

export const badRequest = (message: string, details?: ErrorDetail[]) => new HttpError(400, message, details);
export const notFound = (message: string) => new HttpError(404, message);

/** Fastify's own client-error codes, mapped to a status and a message that never echoes internals. */
const FASTIFY_CLIENT_ERRORS: Record<string, [number, string]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: [413, "request body is larger than the server's limit"],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, "unsupported content type"],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, "content-length does not match the body"],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, "empty JSON body"],
  FST_ERR_CTP_INVALID_JSON_BODY: [400, "body is not valid JSON"],
  FST_ERR_BAD_URL: [400, "malformed URL"],
  FST_ERR_ASYNC_CONSTRAINT: [400, "bad request"],
};

/**
 * The single error handler: client mistakes become 4xx with `{error, details?}`; a store busy with another
 * writer is a 503 with Retry-After (nothing was stored, the same request may succeed shortly); anything else
 * is a 500 with a request id to correlate, logged without stack trace or request body.
 */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | HttpError, req: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof HttpError) {
      if (err.headers) reply.headers(err.headers);
      return reply.code(err.statusCode).send(err.body());
    }
    if (err instanceof StoreBusyError)
      return reply.code(503).header("retry-after", String(err.retryAfterSeconds)).send({ error: err.message });
    const known = err.code ? FASTIFY_CLIENT_ERRORS[err.code] : undefined;
    if (known) return reply.code(known[0]).send({ error: known[1] });
    const status = typeof err.statusCode === "number" ? err.statusCode : 500;
    if (status >= 400 && status < 500) {
      if (status === 429) return reply.code(429).send({ error: "rate limit exceeded, retry later" });
      // Fastify's validation and parser errors: their message describes the input, not the server.
      return reply.code(status).send({ error: err.validation ? `invalid request: ${err.message}` : err.message });
    }
    req.log.error({ code: err.code, name: err.name, msg: err.message, reqId: req.id }, "request failed");
    return reply.code(500).send({ error: "internal error", request_id: req.id });
  });
}
