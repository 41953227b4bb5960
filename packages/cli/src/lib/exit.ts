/** Exit codes shared by every `rtt` command (the seed's rtt-validate contract). */
export const EXIT_OK = 0;
/** Usage error, unreadable input, or input that is not JSON. */
export const EXIT_USAGE = 1;
/** Schema failure, semantic failure, or reference mismatch. */
export const EXIT_INVALID = 2;

/** A failure the command already explained to the user; carries the exit code. */
export class CliExit extends Error {
  constructor(
    readonly code: number,
    message = "",
  ) {
    super(message);
  }
}

/** `rtt … | head`: when the reader leaves, stop quietly as Unix tools do instead of crashing on EPIPE. */
function onStdoutError(e: NodeJS.ErrnoException): void {
  if (e.code === "EPIPE") process.exit(EXIT_OK);
  throw e;
}

export function exitQuietlyWhenStdoutCloses(): void {
  process.stdout.on("error", onStdoutError);
}

/** `rtt serve` outlives its stdout reader: a closed Loki pipe is reported by the emitter, never fatal. */
export function keepRunningWhenStdoutCloses(): void {
  process.stdout.off("error", onStdoutError);
}
