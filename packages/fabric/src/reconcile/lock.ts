import { linkSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { FabricError } from "../errors.js";

/** Whether process `pid` exists (EPERM: it exists but belongs to someone else). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

export interface LockInfo {
  pid: number | null;
  alive: boolean;
}

/** Who holds the lock at `path` now, or null when nobody does. Never changes anything. */
export function readLock(path: string): LockInfo | null {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return null;
  }
  const pid = Number(text.trim());
  if (!Number.isInteger(pid) || pid <= 0) return { pid: null, alive: false };
  return { pid, alive: pidAlive(pid) };
}

export interface ApplyLock {
  readonly path: string;
  /** The pid of a dead holder whose lock was taken over (a killed apply), if any. */
  readonly tookOverFrom: number | null;
  release(): void;
}

/**
 * Takes the exclusive lock of plan transitions (`.rtt/fabric.lock`): one apply, rollback or recovery at a time.
 * The file is created exclusively (link(2) of a file already holding our pid: it fails with EEXIST like O_EXCL, and
 * the lock never exists without its pid, which a bare O_EXCL create + write would leave after a kill between the two).
 * A lock whose pid is dead was left by a killed process: it is moved aside and re-checked before it is taken over,
 * so two processes that both find the same dead lock cannot both win. A live holder is RTT_FABRIC_BUSY.
 */
export function acquireApplyLock(path: string): ApplyLock {
  mkdirSync(dirname(path), { recursive: true });
  const mine = `${path}.${process.pid}`;
  writeFileSync(mine, `${process.pid}\n`);
  let tookOverFrom: number | null = null;
  try {
    for (let attempt = 0; ; attempt++) {
      if (attempt > 64) throw new FabricError("RTT_FABRIC_BUSY", "the lock keeps changing hands; try again", path);
      try {
        linkSync(mine, path);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      }
      const held = readLock(path);
      if (held === null) continue; // released between link and read
      if (held.alive || held.pid === process.pid || attempt >= 8)
        throw new FabricError(
          "RTT_FABRIC_BUSY",
          held.pid === process.pid
            ? "this process already holds the lock"
            : `another apply (pid ${held.pid}) is running; try again when it ends (if no rtt process has that pid, delete this lock file)`,
          path,
        );
      // The holder is dead: move its lock aside, and take over only if what we moved is still that dead lock.
      const aside = `${path}.stale-${process.pid}`;
      try {
        renameSync(path, aside);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") continue;
        throw e;
      }
      const moved = readLock(aside);
      if (moved && moved.pid !== held.pid) {
        // Someone took it over between our read and our rename: put theirs back (if the place is still free).
        try {
          linkSync(aside, path);
        } catch {}
      } else tookOverFrom = held.pid;
      rmSync(aside, { force: true });
    }
  } finally {
    rmSync(mine, { force: true });
  }
  let released = false;
  return {
    path,
    tookOverFrom,
    release() {
      if (released) return;
      released = true;
      const held = readLock(path);
      if (held?.pid === process.pid) rmSync(path, { force: true });
    },
  };
}
