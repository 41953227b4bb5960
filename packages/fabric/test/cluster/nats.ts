import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { connect } from "@nats-io/transport-node";

/** The nats-server binary: RTT_NATS_SERVER, else /usr/sbin/nats-server, else on PATH; undefined when absent. */
export function natsServerBin(): string | undefined {
  const env = process.env.RTT_NATS_SERVER;
  if (env && existsSync(env)) return env;
  if (existsSync("/usr/sbin/nats-server")) return "/usr/sbin/nats-server";
  const which = spawnSync("sh", ["-c", "command -v nats-server"], { encoding: "utf8" });
  const p = which.stdout.trim();
  return which.status === 0 && p ? p : undefined;
}

/**
 * Whether the cluster tests can run. Without nats-server they skip with a printed reason, unless RTT_REQUIRE_NATS=1
 * (set by .ci/run), which makes the absence a failure.
 */
export function natsAvailable(what: string): boolean {
  if (natsServerBin()) return true;
  const why = `${what}: skipped — no nats-server binary (install Debian nats-server or set RTT_NATS_SERVER)`;
  if (process.env.RTT_REQUIRE_NATS === "1") throw new Error(`${why}; RTT_REQUIRE_NATS=1 makes this a failure`);
  console.warn(why);
  return false;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      const port = typeof a === "object" && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export interface NatsCluster {
  /** Client URLs, one per server. */
  urls: string[];
  dir: string;
  procs: ChildProcess[];
  stop(): Promise<void>;
}

/**
 * Three nats-server processes with JetStream on loopback ports, routed into one cluster, each with its own store
 * directory in a temp folder; resolves once JetStream answers with an R3 bucket (a meta leader is elected).
 */
export async function startNatsCluster(n = 3, timeoutMs = 45_000): Promise<NatsCluster> {
  const bin = natsServerBin();
  if (!bin) throw new Error("no nats-server");
  const dir = mkdtempSync(join(tmpdir(), "rtt-nats-"));
  const client: number[] = [];
  const route: number[] = [];
  for (let i = 0; i < n; i++) {
    client.push(await freePort());
    route.push(await freePort());
  }
  const procs: ChildProcess[] = [];
  const logs: string[] = [];
  for (let i = 0; i < n; i++) {
    const sd = join(dir, `s${i + 1}`);
    mkdirSync(sd);
    const routes = route.map((p) => `nats://127.0.0.1:${p}`).filter((_, j) => j !== i);
    const args = ["-a", "127.0.0.1", "-p", String(client[i]), "-js", "-sd", sd, "-n", `s${i + 1}`];
    args.push("--cluster_name", "rtt-test", "--cluster", `nats://127.0.0.1:${route[i]}`, "--routes", routes.join(","));
    const p = spawn(bin, args, { stdio: ["ignore", "ignore", "pipe"] });
    p.stderr?.on("data", (d: Buffer) => {
      logs.push(d.toString());
      if (logs.length > 200) logs.shift();
    });
    procs.push(p);
  }
  const urls = client.map((p) => `nats://127.0.0.1:${p}`);
  const stop = async () => {
    await Promise.all(
      procs.map(
        (p) =>
          new Promise<void>((resolve) => {
            if (p.exitCode !== null || p.signalCode !== null) return resolve();
            p.once("exit", () => resolve());
            p.kill("SIGTERM");
            setTimeout(() => p.kill("SIGKILL"), 5000).unref();
          }),
      ),
    );
    rmSync(dir, { recursive: true, force: true });
  };
  const end = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < end) {
    try {
      const nc = await connect({ servers: urls, timeout: 1000, maxReconnectAttempts: 0 });
      try {
        await jetstreamManager(nc, { timeout: 2000 });
        const kv = await new Kvm(nc).create("rtt-ready", { replicas: n });
        await kv.put("ok", "1");
        return { urls, dir, procs, stop };
      } finally {
        await nc.close();
      }
    } catch (e) {
      last = (e as Error).message;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  await stop();
  throw new Error(`the ${n}-server JetStream cluster did not come up in ${timeoutMs} ms: ${last}\n${logs.join("")}`);
}
