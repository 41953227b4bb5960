import type { ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { FabricError } from "../errors.js";

/** Per phase (start + initialize, then the whole listing): FABRIC.md measured spawn + initialize at ~425 ms. */
export const DEFAULT_TIMEOUT_MS = 10_000;
/** How long a server gets to exit after SIGTERM before SIGKILL, on the error paths. */
const KILL_GRACE_MS = 500;
/** A server paging forever (or cycling cursors) is cut off here rather than listed without end. */
const MAX_PAGES = 1000;
const STDERR_TAIL_BYTES = 2048;

export type McpPhase = "initialize" | "list";

export interface ServerListing {
  serverInfo?: { name: string; version?: string };
  /** The raw tool objects of every page, in order, exactly as the server sent them. */
  tools: unknown[];
  pages: number;
  /** Set when the server did not declare the tools capability (then it has no tools to list). */
  noToolsCapability?: boolean;
  timings: { initializeMs: number; listMs: number; closeMs: number };
}

export interface ListOptions {
  timeoutMs?: number;
  cwd?: string;
  /** The server's environment; default: this process's (as if the command were run from the shell). */
  env?: Record<string, string>;
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Quotes an argv for messages the way a shell user would type it. */
export const commandLabel = (argv: readonly string[]) =>
  argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(" ");

/**
 * Every process below `root`, from /proc (Linux; elsewhere none). Read before signalling: once a parent dies its
 * children are re-parented and can no longer be found, and `npx …` puts the real server one or two levels down.
 */
export function descendantPids(root: number): number[] {
  if (process.platform !== "linux") return [];
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return [];
  }
  const children = new Map<number, number[]>();
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${e}/stat`, "utf8");
    } catch {
      continue;
    }
    // The command name may hold spaces and parentheses: fields resume after the last ')' (state, then ppid).
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    const list = children.get(ppid) ?? [];
    list.push(Number(e));
    children.set(ppid, list);
  }
  const out: number[] = [];
  const queue = [root];
  for (let pid = queue.shift(); pid !== undefined; pid = queue.shift()) {
    for (const c of children.get(pid) ?? []) {
      out.push(c);
      queue.push(c);
    }
  }
  return out;
}

/** Running, not a zombie: a killed grandchild stays a zombie until init reaps it, and a zombie holds nothing. */
export function running(pid: number): boolean {
  if (process.platform === "linux") {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
    } catch {
      return false;
    }
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

function signalAll(pids: Iterable<number>, signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

async function within<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

class PhaseTimeout extends Error {}
class ServerExited extends Error {}

/**
 * Starts an MCP server over stdio with the official SDK, initializes, lists every page of tools/list (following
 * nextCursor) and stops the server. Bounded: each phase has `timeoutMs`; a hang, an early exit or a protocol error is
 * RTT_FABRIC_MCP naming the command and the phase (exit code and stderr tail when it exited). The server — and any
 * process it started — is gone when this returns or throws.
 */
export async function listServerTools(argv: readonly string[], opts: ListOptions = {}): Promise<ServerListing> {
  const [file, ...args] = argv;
  if (file === undefined || file === "")
    throw new FabricError("RTT_FABRIC_USAGE", "no server command: rtt mcp ingest -- COMMAND ARGS…");
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const label = commandLabel(argv);
  // Loaded here, not at the top: the SDK (with zod and ajv) is heavy and only this path needs it.
  const [{ Client }, { StdioClientTransport }, { ResultSchema }] = await Promise.all([
    import("@modelcontextprotocol/sdk/client/index.js"),
    import("@modelcontextprotocol/sdk/client/stdio.js"),
    import("@modelcontextprotocol/sdk/types.js"),
  ]);

  let child: ChildProcess | undefined;
  let onExit: (e: Exit) => void = () => {};
  const exited = new Promise<Exit>((r) => (onExit = r));
  /** The SDK keeps the child private and drops its exit code; this keeps both for the error message and cleanup. */
  class TrackedTransport extends StdioClientTransport {
    override start(): Promise<void> {
      const started = super.start();
      child = (this as unknown as { _process?: ChildProcess })._process;
      child?.once("exit", (code, signal) => onExit({ code, signal }));
      return started;
    }
  }

  const transport = new TrackedTransport({
    command: file,
    args,
    cwd: opts.cwd,
    env: opts.env ?? (process.env as Record<string, string>),
    stderr: "pipe",
  });
  let stderr = "";
  const stderrEnded = new Promise<void>((resolve) => {
    const s = transport.stderr;
    if (!s) return resolve();
    s.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString("utf8")).slice(-STDERR_TAIL_BYTES);
    });
    s.once("end", resolve);
    s.once("close", resolve);
  });
  const client = new Client({ name: "rtt-mcp-ingest", version: "0.1.0" }, { capabilities: {} });
  client.onerror = () => {}; // stray protocol noise; failures surface through the request promises

  const abort = new AbortController();
  let phase: McpPhase = "initialize";
  const inPhase = async <T>(p: Promise<T>): Promise<T> => {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new PhaseTimeout()), timeoutMs);
    });
    const died = exited.then((): never => {
      throw new ServerExited();
    });
    try {
      return await Promise.race([p, timedOut, died]);
    } finally {
      clearTimeout(timer);
    }
  };

  const t0 = performance.now();
  let t1 = t0;
  let t2 = t0;
  try {
    await inPhase(client.connect(transport, { timeout: timeoutMs + 1000, signal: abort.signal }));
    t1 = performance.now();
    phase = "list";
    const listing: ServerListing = {
      tools: [],
      pages: 0,
      timings: { initializeMs: t1 - t0, listMs: 0, closeMs: 0 },
    };
    const info = client.getServerVersion();
    if (info) listing.serverInfo = { name: info.name, version: info.version };
    if (!client.getServerCapabilities()?.tools) {
      listing.noToolsCapability = true;
    } else {
      await inPhase(
        (async () => {
          const cursors = new Set<string>();
          let cursor: string | undefined;
          do {
            if (listing.pages >= MAX_PAGES) throw new Error(`more than ${MAX_PAGES} pages of tools`);
            // ResultSchema is loose: the tools come back as sent, not trimmed to the fields this SDK version knows.
            const page = await client.request(
              { method: "tools/list", params: cursor === undefined ? {} : { cursor } },
              ResultSchema,
              { timeout: timeoutMs + 1000, signal: abort.signal },
            );
            listing.pages++;
            const tools = (page as { tools?: unknown }).tools;
            if (!Array.isArray(tools)) throw new Error(`tools/list page ${listing.pages} has no tools array`);
            listing.tools.push(...tools);
            const next = (page as { nextCursor?: unknown }).nextCursor;
            cursor = typeof next === "string" ? next : undefined;
            if (cursor !== undefined && cursors.has(cursor))
              throw new Error(`tools/list returned cursor ${JSON.stringify(cursor)} twice`);
            if (cursor !== undefined) cursors.add(cursor);
          } while (cursor !== undefined);
        })(),
      );
    }
    t2 = performance.now();
    listing.timings.listMs = t2 - t1;
    await stop(false);
    listing.timings.closeMs = performance.now() - t2;
    return listing;
  } catch (e) {
    abort.abort();
    // Not `await exited`: a spawn that failed (ENOENT) sets no exit event, only the error.
    const exit: Exit | undefined =
      child && (child.exitCode !== null || child.signalCode !== null)
        ? { code: child.exitCode, signal: child.signalCode }
        : undefined;
    await stop(true);
    throw await describe(e, exit);
  }

  /**
   * Graceful: the SDK closes stdin, then SIGTERM, then SIGKILL (2 s apart). Forced (error paths): SIGTERM the whole
   * tree at once, SIGKILL what is left after a short grace. Either way, descendants that outlive the server are killed.
   */
  async function stop(force: boolean): Promise<void> {
    const pid = child?.pid;
    const tree = new Set(pid === undefined ? [] : [pid, ...descendantPids(pid)]);
    if (force && pid !== undefined) {
      signalAll(tree, "SIGTERM");
      await within(exited, KILL_GRACE_MS);
      for (const p of descendantPids(pid)) tree.add(p);
      signalAll([...tree].filter(running), "SIGKILL");
    }
    await within(
      client.close().catch(() => {}),
      5000,
    );
    if (pid !== undefined) {
      let left = [...tree].filter(running);
      if (left.length > 0) signalAll(left, "SIGKILL");
      await within(exited, 2000);
      // SIGKILL is asynchronous: wait (bounded) until the processes are really gone, so the caller sees none left.
      for (let i = 0; i < 100 && left.length > 0; i++) {
        await new Promise((r) => setTimeout(r, 10));
        left = left.filter(running);
      }
    }
  }

  async function describe(e: unknown, exitBefore: Exit | undefined): Promise<FabricError> {
    if (e instanceof FabricError) return e;
    const where = `${label} (${phase})`;
    if (e instanceof PhaseTimeout)
      return new FabricError("RTT_FABRIC_MCP", `no answer to ${phase} within ${timeoutMs} ms (--timeout)`, where);
    const spawnError = (e as NodeJS.ErrnoException).code;
    if (spawnError === "ENOENT" || spawnError === "EACCES")
      return new FabricError("RTT_FABRIC_MCP", `cannot start ${JSON.stringify(file)}: ${spawnError}`, where);
    const exit = exitBefore ?? (e instanceof ServerExited ? await within(exited, 1000) : undefined);
    if (exit) {
      await within(stderrEnded, 500);
      const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
      const tail = stderr.trim()
        ? `; stderr: ${stderr.trim().split("\n").slice(-10).join("\n")}`
        : "; no stderr output";
      return new FabricError("RTT_FABRIC_MCP", `server ${how} during ${phase}${tail}`, where);
    }
    return new FabricError("RTT_FABRIC_MCP", `${phase} failed: ${(e as Error).message ?? String(e)}`, where);
  }
}
