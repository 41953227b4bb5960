import { createHash } from "node:crypto";
import { link, mkdir, open, readdir, readFile, stat, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type DiffSide, type LoadedTrace, type LoadOptions, loadDiffSides, loadTrace } from "@rtt/ctf";

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

/** What changes whenever a trace's stored text does (the view caches' key): its size and a modification mark. */
export interface TraceStamp {
  size: number;
  mtimeMs: number;
}

/**
 * Builds an append under the trace's append lock. `stored` is how many events the store holds for the trace when
 * the lock is shared by several servers (PostgreSQL), so the caller can first catch up with what another server
 * appended (`readFrom`, on the locked connection); undefined for a store only this process writes (files). Returns
 * the text to append (whole lines) and its number of events, or null to append nothing.
 */
export type AppendBuild = (
  stored: number | undefined,
  readFrom: (seq: number) => Promise<StoredSlice>,
) => Promise<{ text: string; events: number } | null>;

/** Stored text from the chunk holding event `seq` on: `first` is the seq of the text's first event. */
export interface StoredSlice {
  text: string;
  first: number;
}

/**
 * Where Corridor Trace Files are kept: files in `<data-dir>/ctf/` (CtfStore, one server), or PostgreSQL tables
 * (PgCtfStore, any number of servers on one database). Missing traces reject with an error whose `code` is ENOENT.
 */
export interface TraceStore {
  readonly kind: "files" | "postgres";
  init(): Promise<void>;
  exists(id: string): Promise<boolean>;
  stamp(id: string): Promise<TraceStamp>;
  readText(id: string): Promise<string>;
  /** Only for a shared store: the stored text from event `seq` on (whole chunks; skip to `seq`). */
  readFrom?(id: string, seq: number): Promise<StoredSlice>;
  /** Stores a complete upload; false (nothing written) when the id is taken. `events`: its number of events. */
  create(id: string, text: string, events: number): Promise<boolean>;
  appendWith(id: string, build: AppendBuild): Promise<void>;
  list(): Promise<TraceListing[]>;
  loadTrace(id: string, opts: LoadOptions): Promise<LoadedTrace>;
  loadDiffSides(a: string, b: string): Promise<[DiffSide, DiffSide]>;
  /**
   * Only for a shared store: `onChange(id, events)` whenever any server stored events of a trace (after commit),
   * `onResync()` after the feed reconnected (changes may have been missed meanwhile).
   */
  watch?(onChange: (id: string, events: number) => void, onResync: () => void): void;
  close(): Promise<void>;
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
export class CtfStore implements TraceStore {
  readonly kind = "files" as const;
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

  async stamp(id: string): Promise<TraceStamp> {
    const st = await stat(this.path(id));
    return { size: st.size, mtimeMs: st.mtimeMs };
  }

  readText(id: string): Promise<string> {
    return readFile(this.path(id), "utf8");
  }

  /** Written to a temporary file and linked into place: never half-visible, and never over an existing trace. */
  async create(id: string, text: string, _events?: number): Promise<boolean> {
    const tmp = `${this.path(id)}.tmp-${process.pid}-${Date.now()}`;
    await writeFile(tmp, text, { flag: "wx" });
    try {
      await link(tmp, this.path(id));
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
      throw err;
    } finally {
      await unlink(tmp).catch(() => undefined);
    }
  }

  /** One process writes these files: the caller's per-trace queue is the lock, and it is always up to date. */
  async appendWith(id: string, build: AppendBuild): Promise<void> {
    const r = await build(undefined, async () => ({ text: await this.readText(id), first: 0 }));
    if (r) await this.append(id, r.text);
  }

  loadTrace(id: string, opts: LoadOptions): Promise<LoadedTrace> {
    return loadTrace(this.path(id), opts);
  }

  loadDiffSides(a: string, b: string): Promise<[DiffSide, DiffSide]> {
    return loadDiffSides(this.path(a), this.path(b));
  }

  async close(): Promise<void> {}

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
