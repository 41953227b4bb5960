import { createHash } from "node:crypto";
import { mkdir, open, readdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type LoadedTrace, loadTrace } from "@rtt/ctf";

/** Ids become file names: letters, digits, dot, dash, underscore; no path separators. */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export interface TraceListing {
  id: string;
  task_id: string | null;
  steps: number;
  final_status: string;
  complete: boolean;
  events: number;
  bytes: number;
  modified: string;
  /** Why the file could not be read (a directory, no permission, …); the counts above are then zero. */
  error?: string;
}

/** Derives an id for an upload without one: the task id plus a content hash, so re-uploading is idempotent. */
export function deriveId(taskId: string | undefined, text: string): string {
  const base =
    (taskId ?? "trace")
      .replace(/[^A-Za-z0-9._-]+/g, "-")
      .replace(/^[^A-Za-z0-9]+/, "")
      .slice(0, 100) || "trace";
  return `${base}-${createHash("sha256").update(text).digest("hex").slice(0, 12)}`;
}

/**
 * Traces as append-only files `${dataDir}/ctf/<id>.ctf`. Complete uploads are written to a temporary
 * file and renamed (never half-visible); live traces only ever grow by appends.
 */
export class CtfStore {
  readonly dir: string;
  private readonly listingCache = new Map<string, { size: number; mtimeMs: number; listing: TraceListing }>();

  constructor(dataDir: string) {
    this.dir = join(dataDir, "ctf");
  }

  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
  }

  path(id: string): string {
    if (!ID_PATTERN.test(id)) throw new Error(`invalid trace id ${JSON.stringify(id)}`);
    return join(this.dir, `${id}.ctf`);
  }

  async exists(id: string): Promise<boolean> {
    try {
      await stat(this.path(id));
      return true;
    } catch {
      return false;
    }
  }

  readText(id: string): Promise<string> {
    return readFile(this.path(id), "utf8");
  }

  async create(id: string, text: string): Promise<void> {
    const tmp = `${this.path(id)}.tmp-${process.pid}-${Date.now()}`;
    await writeFile(tmp, text, { flag: "wx" });
    await rename(tmp, this.path(id));
  }

  /**
   * Appends whole lines or nothing: a write that fails part way (disk full) is cut back to where it started, so
   * the file never ends in half a line that the next append would be glued to.
   */
  async append(id: string, text: string): Promise<void> {
    const fh = await open(this.path(id), "a");
    try {
      const { size } = await fh.stat();
      try {
        await fh.appendFile(text);
      } catch (err) {
        await fh.truncate(size).catch(() => undefined);
        throw err;
      }
    } finally {
      await fh.close();
    }
  }

  /**
   * Lists every trace; per-file facts are cached until the file's size or mtime changes. A file that cannot be
   * read is listed with its `error` instead of failing the whole list.
   */
  async list(): Promise<TraceListing[]> {
    const names = (await readdir(this.dir)).filter((n) => n.endsWith(".ctf")).sort();
    const out: TraceListing[] = [];
    for (const name of names) {
      const id = name.slice(0, -4);
      if (!ID_PATTERN.test(id)) continue;
      try {
        out.push(await this.listing(id, join(this.dir, name)));
      } catch (err) {
        out.push(unreadable(id, err));
      }
    }
    return out;
  }

  private async listing(id: string, path: string): Promise<TraceListing> {
    const st = await stat(path);
    const hit = this.listingCache.get(id);
    if (hit && hit.size === st.size && hit.mtimeMs === st.mtimeMs) return hit.listing;
    const t: LoadedTrace = await loadTrace(path, { recompute: false, skipSchema: true, requireFooter: false });
    const listing: TraceListing = {
      id,
      task_id: t.header?.task_id ?? null,
      steps: t.steps.length,
      final_status: t.finalStatus,
      complete: t.footer !== null,
      events: t.events,
      bytes: st.size,
      modified: st.mtime.toISOString(),
    };
    this.listingCache.set(id, { size: st.size, mtimeMs: st.mtimeMs, listing });
    return listing;
  }
}

/** The short reason a stored file could not be read: its errno code (EISDIR, EACCES, EMFILE, …) or error name. */
export function readFailure(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e?.code ?? (e instanceof Error ? e.name : "unknown error");
}

function unreadable(id: string, err: unknown): TraceListing {
  return {
    id,
    task_id: null,
    steps: 0,
    final_status: "unknown",
    complete: false,
    events: 0,
    bytes: 0,
    modified: "",
    error: `cannot be read (${readFailure(err)})`,
  };
}
