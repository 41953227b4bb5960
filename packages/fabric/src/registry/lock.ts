import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { FabricError } from "../errors.js";

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
};

/**
 * Runs `fn` holding the registry's writer lock: a file holding the owner's pid, put in place with link(2) so it
 * never exists without its pid. Two appenders on one pack would interleave records; readers never take it. A lock
 * left by a killed process (its pid is gone) is taken over, so a SIGKILL never wedges the registry.
 */
export function withWriteLock<T>(path: string, fn: () => T): T {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}`;
  writeFileSync(tmp, `${process.pid}\n`);
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(tmp, path);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
        let owner = Number.NaN;
        try {
          owner = Number(readFileSync(path, "utf8").trim());
        } catch {}
        if (attempt < 3 && owner !== process.pid && !(Number.isInteger(owner) && owner > 0 && alive(owner))) {
          rmSync(path, { force: true });
          continue;
        }
        throw new FabricError(
          "RTT_FABRIC_USAGE",
          `the registry is being written by process ${owner} (delete this lock file if that process is gone)`,
          path,
        );
      }
    }
  } finally {
    rmSync(tmp, { force: true });
  }
  try {
    return fn();
  } finally {
    rmSync(path, { force: true });
  }
}
