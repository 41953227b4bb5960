import cliProgress from "cli-progress";

/** A byte-based progress bar on stderr, shown only on a TTY and only for inputs large enough to wait on. */
export function byteProgress(totalBytes: number, label: string): { update(bytes: number): void; stop(): void } {
  const show = process.stderr.isTTY && totalBytes > 8 * 1024 * 1024;
  if (!show) return { update() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${label} [{bar}] {percentage}% | {value}/{total} MB | ETA {eta}s`,
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  const mb = (b: number) => Math.round(b / 1e5) / 10;
  bar.start(mb(totalBytes), 0);
  let last = 0;
  return {
    update(bytes) {
      // Redrawing on every chunk costs more than the validation itself; 1 MB steps are plenty.
      if (bytes - last < 1 << 20) return;
      last = bytes;
      bar.update(mb(bytes));
    },
    stop() {
      bar.stop();
    },
  };
}
