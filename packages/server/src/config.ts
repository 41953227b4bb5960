import { readFileSync } from "node:fs";

/** Options of the RTT server, as `rtt serve` and tests pass them. Every default is safe for a laptop. */
export interface ServerOptions {
  host?: string;
  port?: number;
  /** SQLite file path, `:memory:`, or a `postgres://` / `postgresql://` URL. */
  db?: string;
  /** PostgreSQL schema to use (created if missing). Tests isolate themselves with a unique one. */
  pgSchema?: string;
  /** NDJSON session lines for Loki go here; stdout when absent. */
  logFile?: string;
  /** File holding the bearer token (first line, trimmed). */
  tokenFile?: string;
  /** The token itself (tests, embedding). Takes precedence over tokenFile. */
  token?: string;
  /** File holding a read-only bearer token: reads and computations, no writes. */
  readTokenFile?: string;
  /** The read-only token itself. Takes precedence over readTokenFile. */
  readToken?: string;
  /** Host names served besides loopback names and --host (DNS rebinding guard); `.example.org` for subdomains. */
  allowHosts?: string[];
  /** Origins besides the server's own whose pages may write or open live sockets. */
  allowOrigins?: string[];
  /** Largest accepted request body in bytes. */
  maxBody?: number;
  demo?: boolean;
  allowDegraded?: boolean;
  /** Cap on per-operator gauge series in /metrics (least recently active evicted). */
  maxOperatorSeries?: number;
  /** Cap on distinct service/cluster label values of the diagnostics metrics; later sites count as "other". */
  maxSiteSeries?: number;
  /** Requests per minute per client address; 0 disables rate limiting. */
  rateLimit?: number;
  /** Folder of the built web UI; defaults to packages/web/dist next to this package. */
  webDir?: string;
  /** Budget (bytes of stored documents) of the parsed-session cache used by replay. */
  replayCacheBytes?: number;
  /**
   * Refuse sessions that break any of the project's rules beyond the seed's schemas (spec/VALIDATION.md) instead
   * of accepting them with warnings (`rtt serve --strict`).
   */
  strict?: boolean;
  /** Folder for Corridor Trace Files (kept in `<dataDir>/ctf/`); default: the SQLite file's folder, `.rtt` with PostgreSQL. */
  dataDir?: string;
  /**
   * Fabric root whose daemon socket, plan WAL and plans the Fabric view reads (`rtt serve --fabric-root`); default:
   * `.rtt` when a daemon socket or a WAL exists there; "" turns the view off.
   */
  fabricRoot?: string;
}

export const DEFAULTS = {
  host: "127.0.0.1",
  port: 8080,
  db: ".rtt/rtt.db",
  dataDir: ".rtt",
  maxBody: 10 * 1024 * 1024,
  maxOperatorSeries: 200,
  maxSiteSeries: 500,
  rateLimit: 6000,
  replayCacheBytes: 256 * 1024 * 1024,
} as const;

const UNITS: Record<string, number> = {
  b: 1,
  kb: 1024,
  k: 1024,
  mb: 1024 ** 2,
  m: 1024 ** 2,
  gb: 1024 ** 3,
  g: 1024 ** 3,
};

/** Parses sizes like `10mb`, `512kb`, `1048576`. Throws a readable error on anything else. */
export function parseSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = m ? UNITS[(m[2] || "b").toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new Error(`invalid size ${JSON.stringify(text)}: use e.g. 10mb, 512kb or bytes`);
  const n = Math.floor(Number(m[1]) * unit);
  if (!Number.isSafeInteger(n) || n < 1)
    throw new Error(`invalid size ${JSON.stringify(text)}: must be at least 1 byte`);
  return n;
}

export function isPostgresUrl(db: string): boolean {
  return /^postgres(ql)?:\/\//i.test(db);
}

export const MIN_TOKEN_LENGTH = 16;

/**
 * Reads a token file: first non-empty line, trimmed. Errors never include the token. Here rather than beside the
 * guard so the CLI's clients (`rtt ctf cat --token-file`) read token files as `rtt serve` does without loading it.
 */
export function loadToken(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new Error(`cannot read token file ${path}: ${(e as NodeJS.ErrnoException).code ?? "unreadable"}`);
  }
  const token =
    text
      .split(/\r?\n/)
      .find((l) => l.trim() !== "")
      ?.trim() ?? "";
  checkToken(token, `token file ${path}`);
  return token;
}

export function checkToken(token: string, where = "token"): void {
  if (token.length < MIN_TOKEN_LENGTH)
    throw new Error(`${where}: the token must be at least ${MIN_TOKEN_LENGTH} characters`);
  if (/\s/.test(token)) throw new Error(`${where}: the token must not contain whitespace`);
}
