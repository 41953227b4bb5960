/**
 * RTTClient: the RTT-Inside API for services (seeds 001/002). Zero dependencies: global fetch.
 *
 * Failure policy: network errors, timeouts and 5xx are retried with jittered exponential backoff
 * (full jitter: a random wait in [0, min(maxBackoffMs, backoffMs·2^attempt)], so many services
 * restarting together do not retry in lockstep). 4xx is never retried: the request is wrong and
 * will stay wrong. Every failure is an RTTError. A retried beacon may arrive twice if the first
 * attempt reached the server but its answer was lost; beacons are observations, so that is harmless.
 */
import { RTTError, type RTTErrorDetail } from "./errors.js";
import type {
  BeaconPayload,
  BeaconResponse,
  CorridorPayload,
  CorridorResult,
  DriftEvent,
  Profile,
  SiteSummary,
  TopologyPayload,
  TopologyResult,
  ValidatePayload,
  ValidateResult,
} from "./types.js";

export const DEFAULT_BASE_URL = "http://127.0.0.1:8080";

export interface RTTClientOptions {
  /** Server base URL. Default: $RTT_URL, else http://127.0.0.1:8080. */
  baseUrl?: string;
  /** Bearer token for writes. Default: $RTT_TOKEN. */
  token?: string;
  /** Per-attempt timeout. Default 5000 ms. */
  timeoutMs?: number;
  /** Retries after the first attempt (network errors, timeouts, 5xx). Default 2. */
  retries?: number;
  /** First backoff ceiling. Default 200 ms. */
  backoffMs?: number;
  /** Backoff ceiling cap. Default 5000 ms. */
  maxBackoffMs?: number;
  /**
   * Where to print the seeds' log lines (`console`, pino, winston…): `[RTT] heartbeat sent` (the beacon's event,
   * with the payload) after each accepted beacon, and `[RTT] drift detected in <site>` (with the drift events) when
   * its answer reports drift. None by default: the SDK prints nothing.
   */
  logger?: RTTLogger;
}

/** A logger the client can print to: `info` (or `log`) for beacons, `warn` (else `info`/`log`) for drift. */
export interface RTTLogger {
  info?(message: string, ...args: unknown[]): void;
  log?(message: string, ...args: unknown[]): void;
  warn?(message: string, ...args: unknown[]): void;
}

/** Environment access that also works where `process` does not exist (browsers, workers). */
function env(name: string): string | undefined {
  const proc = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  const v = proc?.env?.[name];
  return v === undefined || v === "" ? undefined : v;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class RTTClient {
  readonly baseUrl: string;
  readonly timeoutMs: number;
  readonly retries: number;
  private readonly token?: string;
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly logger?: RTTLogger;

  constructor(options: RTTClientOptions = {}) {
    this.baseUrl = (options.baseUrl ?? env("RTT_URL") ?? DEFAULT_BASE_URL).replace(/\/+$/, "");
    this.token = options.token ?? env("RTT_TOKEN");
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.retries = Math.max(0, Math.floor(options.retries ?? 2));
    this.backoffMs = options.backoffMs ?? 200;
    this.maxBackoffMs = options.maxBackoffMs ?? 5000;
    this.logger = options.logger;
  }

  /** POST /api/rtt/beacon: one structural heartbeat. Resolves with the fingerprint and any drift it revealed. */
  async beacon(payload: BeaconPayload): Promise<BeaconResponse> {
    const res = await this.request<BeaconResponse>("POST", "/api/rtt/beacon", payload);
    const log = this.logger;
    if (log) {
      // The seeds' lines: seed 002 `console.log("[RTT] heartbeat sent", payload)`, seed 001 `[RTT] cluster_heartbeat
      // sent` and `[RTT] drift detected in service mesh`.
      const info = (log.info ?? log.log)?.bind(log);
      info?.(`[RTT] ${payload.event} sent`, payload);
      if (res.drift?.length) (log.warn?.bind(log) ?? info)?.(`[RTT] drift detected in ${res.site}`, res.drift);
    }
    return res;
  }

  /** PUT /api/rtt/profile/{site}. */
  setProfile(site: string, profile: Profile): Promise<{ status: "ok"; site: string; profile: Profile }> {
    return this.request("PUT", `/api/rtt/profile/${encodeURIComponent(site)}`, profile);
  }

  /** GET /api/rtt/profile/{site}; null when the site has no profile. */
  async getProfile(site: string): Promise<Profile | null> {
    try {
      const r = await this.request<{ profile: Profile }>("GET", `/api/rtt/profile/${encodeURIComponent(site)}`);
      return r.profile;
    } catch (err) {
      if (err instanceof RTTError && err.status === 404) return null;
      throw err;
    }
  }

  /** POST /api/rtt/validate: coherence of {system_map, flows, constraints}. */
  validate(payload: ValidatePayload): Promise<ValidateResult> {
    return this.request("POST", "/api/rtt/validate", payload);
  }

  /** POST /api/rtt/corridor: corridor alignment of flows. */
  corridor(payload: CorridorPayload): Promise<CorridorResult> {
    return this.request("POST", "/api/rtt/corridor", payload);
  }

  /** POST /api/rtt/topology: triadic decomposition, layers, cycles, articulation points. */
  topology(payload: TopologyPayload): Promise<TopologyResult> {
    return this.request("POST", "/api/rtt/topology", payload);
  }

  /** GET /api/rtt/sites. */
  async sites(): Promise<SiteSummary[]> {
    return (await this.request<{ sites: SiteSummary[] }>("GET", "/api/rtt/sites")).sites;
  }

  /** GET /api/rtt/drift?site=&limit=: most recent drift events, oldest first. */
  async drift(query: { site?: string; limit?: number } = {}): Promise<DriftEvent[]> {
    const qs = new URLSearchParams();
    if (query.site !== undefined) qs.set("site", query.site);
    if (query.limit !== undefined) qs.set("limit", String(query.limit));
    const suffix = qs.toString() ? `?${qs}` : "";
    return (await this.request<{ events: DriftEvent[] }>("GET", `/api/rtt/drift${suffix}`)).events;
  }

  /** One API call with timeout, retries and RTTError mapping. */
  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const url = `${this.baseUrl}${path}`;
    const headers: Record<string, string> = { accept: "application/json" };
    if (body !== undefined) headers["content-type"] = "application/json";
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    const payload = body === undefined ? undefined : JSON.stringify(body);

    let last: RTTError | undefined;
    for (let attempt = 0; attempt <= this.retries; attempt++) {
      if (attempt > 0) await sleep(Math.random() * Math.min(this.maxBackoffMs, this.backoffMs * 2 ** (attempt - 1)));
      try {
        return await this.once<T>(method, url, path, headers, payload, attempt + 1);
      } catch (err) {
        if (!(err instanceof RTTError) || !err.retryable) throw err;
        last = err;
      }
    }
    throw last!;
  }

  private async once<T>(
    method: string,
    url: string,
    path: string,
    headers: Record<string, string>,
    body: string | undefined,
    attempt: number,
  ): Promise<T> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.timeoutMs);
    let res: Response;
    let text: string;
    try {
      res = await fetch(url, { method, headers, body, signal: controller.signal });
      text = await res.text();
    } catch (err) {
      const timedOut = controller.signal.aborted;
      throw new RTTError(
        timedOut
          ? `RTT ${method} ${path}: no answer within ${this.timeoutMs} ms`
          : `RTT ${method} ${path}: ${describe(err)}`,
        timedOut ? "timeout" : "network",
        undefined,
        [],
        attempt,
        { cause: err },
      );
    } finally {
      clearTimeout(timer);
    }
    let json: unknown;
    try {
      json = text.length > 0 ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (res.ok) return json as T;
    const err = json as { error?: string; details?: RTTErrorDetail[] } | undefined;
    const details = Array.isArray(err?.details) ? err.details : [];
    const where = details.length > 0 ? ` (${details.map((d) => `${d.path || "body"}: ${d.message}`).join("; ")})` : "";
    throw new RTTError(
      `RTT ${method} ${path}: ${res.status} ${err?.error ?? (text.slice(0, 200) || res.statusText)}${where}`,
      "http",
      res.status,
      details,
      attempt,
    );
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as { cause?: unknown }).cause;
    return cause instanceof Error ? `${err.message}: ${cause.message}` : err.message;
  }
  return String(err);
}
