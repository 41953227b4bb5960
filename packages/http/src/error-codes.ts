/**
 * Every error code the server gives out, in one table (modelled on Fastify's lib/errors.js): code → HTTP status
 * and the default message. An error body carries its code as `code` beside `error`; clients and the CLI branch on
 * the code, never on the message. Codes are stable: add new ones, never rename or reuse one.
 * Documented in docs/contracts/internal-contracts.md ("Error codes").
 */
export const HTTP_ERRORS = {
  /** A malformed request Fastify rejects before a route sees it (e.g. an async constraint). */
  RTT_ERR_BAD_REQUEST: { status: 400, message: "bad request" },
  /** A path that is not valid percent-encoded UTF-8. */
  RTT_ERR_BAD_URL: { status: 400, message: "malformed URL" },
  /** A body that cannot be parsed: not JSON, empty, nested too deep, a length that does not match. */
  RTT_ERR_INVALID_BODY: { status: 400, message: "invalid request body" },
  /** A parsed body (or URL part) that breaks the schema or a semantic rule; `details` names each problem. */
  RTT_ERR_INVALID_INPUT: { status: 400, message: "invalid input" },
  /** Unknown, repeated or malformed query parameters. */
  RTT_ERR_INVALID_QUERY: { status: 400, message: "invalid query parameters" },
  /** No line of an NDJSON batch was accepted; the status is the lines' common one (400, 409 or 503). */
  RTT_ERR_BATCH_REJECTED: { status: 400, message: "no line of the batch was accepted" },
  /** No or a wrong bearer token. */
  RTT_ERR_UNAUTHORIZED: { status: 401, message: "missing or invalid bearer token" },
  /** A refused Host (DNS rebinding guard) or Origin (CSRF guard), or a read token on a write. */
  RTT_ERR_FORBIDDEN: { status: 403, message: "forbidden" },
  /** A session, operator, trace or profile that does not exist. */
  RTT_ERR_NOT_FOUND: { status: 404, message: "not found" },
  /** No route for this method and path. */
  RTT_ERR_NO_ROUTE: { status: 404, message: "no route" },
  /** The id exists with different content, or the resource no longer takes writes. */
  RTT_ERR_CONFLICT: { status: 409, message: "conflict" },
  /** A body over the size limit, or a request over one of the diagnostics work limits. */
  RTT_ERR_TOO_LARGE: { status: 413, message: "request body is larger than the server's limit" },
  /** A body that is not of a media type the route reads. */
  RTT_ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, message: "unsupported content type" },
  /** Over the per-client request rate. */
  RTT_ERR_RATE_LIMITED: { status: 429, message: "rate limit exceeded, retry later" },
  /** A server fault; the body carries `request_id` to find it in the log. */
  RTT_ERR_INTERNAL: { status: 500, message: "internal error" },
  /** The reference self-check (POST /validate) failed. */
  RTT_ERR_SELF_CHECK_FAILED: { status: 500, message: "conformance self-validation failed" },
  /** The session store is locked by another writer; nothing was stored, retry after Retry-After. */
  RTT_ERR_STORE_BUSY: {
    status: 503,
    message: "the session store is busy (database locked by another writer); retry shortly",
  },
  /** A transient shortage (e.g. out of file handles); retry after Retry-After. */
  RTT_ERR_UNAVAILABLE: { status: 503, message: "temporarily unavailable, retry" },
} as const satisfies Record<string, { status: number; message: string }>;

export type HttpErrorCode = keyof typeof HTTP_ERRORS;

/**
 * Why `rtt serve` refused to start (StartupError.code). No HTTP status: the CLI maps each to an exit code
 * (self-check → 2, everything else → 1).
 */
export const STARTUP_ERRORS = {
  /** Bad options: token files, a read token equal to the write token, a public address without a token. */
  RTT_ERR_STARTUP_OPTIONS: { message: "invalid startup options" },
  /** The reference self-check failed and --allow-degraded was not given. */
  RTT_ERR_STARTUP_SELF_CHECK: { message: "conformance self-validation failed" },
  /** The session store or the diagnostics tables cannot be opened or migrated. */
  RTT_ERR_STARTUP_STORE: { message: "cannot open the store" },
  /** The --log-file cannot be opened. */
  RTT_ERR_STARTUP_LOG_FILE: { message: "cannot open the log file" },
  /** The address cannot be listened on (in use, no permission). */
  RTT_ERR_STARTUP_LISTEN: { message: "cannot listen" },
} as const satisfies Record<string, { message: string }>;

export type StartupErrorCode = keyof typeof STARTUP_ERRORS;

export type ErrorCode = HttpErrorCode | StartupErrorCode;
