import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";

let counter = 0;

/**
 * Writes a file so that readers (and a crash at any point) see the old bytes or the new ones, never a mix: write a
 * temp file beside it, fsync, rename over, fsync the directory. `durable: false` skips both fsyncs for bulk writes
 * that a later checkpoint makes durable (the rename still keeps readers from seeing partial files).
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, opts: { durable?: boolean } = {}): void {
  const durable = opts.durable ?? true;
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.tmp-${process.pid}-${++counter}-${Date.now().toString(36)}`);
  const fd = openSync(tmp, "w", 0o644);
  try {
    const buf = typeof data === "string" ? Buffer.from(data, "utf8") : data;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    if (durable) fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, path);
  if (durable) fsyncDir(dir);
}

export function fsyncDir(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
