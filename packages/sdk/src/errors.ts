/** Error raised by every RTTClient call that does not succeed. */

export interface RTTErrorDetail {
  path: string;
  message: string;
}

export type RTTErrorKind = "http" | "network" | "timeout";

export class RTTError extends Error {
  override readonly name = "RTTError";
  constructor(
    message: string,
    /** "http": the server answered with a non-2xx status; "network"/"timeout": it did not answer. */
    readonly kind: RTTErrorKind,
    /** HTTP status, undefined for network errors and timeouts. */
    readonly status: number | undefined,
    /** The server's {details:[{path, message}]}: which field was wrong and why. */
    readonly details: RTTErrorDetail[] = [],
    /** Attempts made, including retries. */
    readonly attempts = 1,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** True for failures worth retrying: the network, timeouts and 5xx. Never 4xx. */
  get retryable(): boolean {
    return this.kind !== "http" || (this.status !== undefined && this.status >= 500);
  }
}
