/**
 * startHeartbeat: the seeds' recommended cadence for services — a startup beacon, a periodic
 * heartbeat, a shutdown beacon — in one call.
 *
 * Guarantees for the host service:
 * - Never throws into the host: every failure goes to `onError` (default: one console.warn line),
 *   and an `onError` that throws is swallowed too.
 * - Never keeps the process alive: the timer is unref'd. When the event loop empties, the
 *   shutdown beacon is sent from `beforeExit`. On SIGTERM/SIGINT call `await hb.stop()` yourself —
 *   installing signal handlers would change how your process exits, so the SDK does not.
 * - Never piles up: a tick is skipped while the previous beacon is still in flight.
 */
import { RTTClient, type RTTClientOptions } from "./client.js";
import type { BeaconEvent, BeaconResponse, Structure } from "./types.js";

export interface HeartbeatOptions {
  site: string;
  /** Structure to report, or a function read at every beat (so changes show up as drift). */
  structure: Structure | (() => Structure);
  /** Default 30 000 ms (seeds: every 30–60 s). */
  intervalMs?: number;
  /** Periodic event: "heartbeat" (services) or "cluster_heartbeat" (clusters). */
  event?: Extract<BeaconEvent, "heartbeat" | "cluster_heartbeat">;
  /** Default "srv-<start time>". */
  session?: string;
  /** Client to send with; otherwise one is made from `clientOptions`. */
  client?: RTTClient;
  clientOptions?: RTTClientOptions;
  /** Send a startup beacon first. Default true. */
  startup?: boolean;
  /** Called with each failure. Default: console.warn. */
  onError?: (err: unknown) => void;
  /** Called with each answered beacon (e.g. to log "[RTT] heartbeat sent"). */
  onBeacon?: (res: BeaconResponse, event: BeaconEvent) => void;
}

export interface Heartbeat {
  /** Resolves once the startup beacon was sent (or failed). */
  readonly ready: Promise<void>;
  /** Beacons answered so far. */
  readonly sent: number;
  /** Stops the timer and sends the shutdown beacon (once). Never rejects. */
  stop(): Promise<void>;
}

export function startHeartbeat(options: HeartbeatOptions): Heartbeat {
  const client = options.client ?? new RTTClient(options.clientOptions);
  const intervalMs = options.intervalMs ?? 30_000;
  const session = options.session ?? `srv-${Date.now()}`;
  const periodic = options.event ?? "heartbeat";
  const onError = (err: unknown) => {
    try {
      (options.onError ?? ((e) => console.warn(`[RTT] beacon failed: ${e instanceof Error ? e.message : String(e)}`)))(
        err,
      );
    } catch {
      // The host's own error handler failed; there is nobody left to tell.
    }
  };
  let sent = 0;
  let inFlight: Promise<void> | undefined;
  let stopped = false;

  const send = (event: BeaconEvent): Promise<void> => {
    const p = (async () => {
      try {
        const structure = typeof options.structure === "function" ? options.structure() : options.structure;
        const res = await client.beacon({
          site: options.site,
          session,
          event,
          ts: new Date().toISOString(),
          structure,
        });
        sent++;
        options.onBeacon?.(res, event);
      } catch (err) {
        onError(err);
      }
    })();
    inFlight = p;
    return p;
  };

  const ready = options.startup === false ? Promise.resolve() : send("startup");
  const timer = setInterval(() => {
    if (stopped || inFlight) return;
    void send(periodic).finally(() => {
      inFlight = undefined;
    });
  }, intervalMs);
  timer.unref?.();
  void ready.finally(() => {
    inFlight = undefined;
  });

  const proc = (globalThis as { process?: NodeJS.Process }).process;
  const onBeforeExit = () => {
    void stop();
  };
  proc?.once?.("beforeExit", onBeforeExit);

  let stopping: Promise<void> | undefined;
  function stop(): Promise<void> {
    if (stopping) return stopping;
    stopped = true;
    clearInterval(timer);
    proc?.removeListener?.("beforeExit", onBeforeExit);
    stopping = (async () => {
      await (inFlight ?? Promise.resolve());
      await send("shutdown");
    })();
    return stopping;
  }

  return {
    ready,
    get sent() {
      return sent;
    },
    stop,
  };
}
