import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { q } from "@rtt/http";
import type { FastifyInstance } from "fastify";
import { type Fabric, readGraph, readPlans, readStatus } from "./read.js";
import type { FabricStatus } from "./types.js";

export interface FabricPluginOptions {
  /** The fabric root (`.rtt`): its daemon socket, WAL, stored plans and trust store. */
  root: string;
  /** How long a read waits for the daemon (ms). */
  daemonTimeoutMs?: number;
}

/**
 * `rtt serve --fabric-root DIR`, and without the flag: `.rtt` when a daemon socket or a plan WAL exists there (the
 * fabric's own default root); undefined = the Fabric routes are not mounted.
 */
export function resolveFabricRoot(flag: string | undefined, cwd = process.cwd()): string | undefined {
  if (flag !== undefined) return resolve(cwd, flag);
  const root = resolve(cwd, ".rtt");
  return existsSync(join(root, "fabric.sock")) || existsSync(join(root, "wal", "fabric.wal")) ? root : undefined;
}

const PLANS_QUERY = q.object({ limit: q.integer(1, 1000) });

/**
 * The Fabric view's read routes (issue 17 item 6): `GET /fabric/status` (routes with lane, placement, p50/p99,
 * breaker state and drops, from the daemon's control socket), `GET /fabric/plans` (the plan in force and its history
 * from the WAL: each commit's signature and Merkle inclusion proof), `GET /fabric/graph` (symbols by placement and
 * routes). Read-only: nothing here writes the WAL or changes what the daemon serves. @rtt/fabric is imported on the
 * first request, so starting the server never pays for it.
 */
export async function fabricPlugin(app: FastifyInstance, opts: FabricPluginOptions): Promise<void> {
  const root = resolve(opts.root);
  let loading: Promise<Fabric> | undefined;
  const fabric = () => {
    loading ??= import("@rtt/fabric").catch((e: unknown) => {
      loading = undefined;
      throw e;
    });
    return loading;
  };
  // Viewers refetching at once share one daemon round trip.
  let statusRead: Promise<FabricStatus> | undefined;
  const status = async () => {
    const f = await fabric();
    statusRead ??= readStatus(f, root, opts.daemonTimeoutMs).finally(() => {
      statusRead = undefined;
    });
    return statusRead;
  };

  app.get("/fabric/status", { schema: { querystring: q.object({}) } }, async () => status());
  app.get<{ Querystring: { limit?: number } }>("/fabric/plans", { schema: { querystring: PLANS_QUERY } }, async (req) =>
    readPlans(await fabric(), root, req.query.limit ?? 50),
  );
  app.get("/fabric/graph", { schema: { querystring: q.object({}) } }, async () =>
    readGraph(await fabric(), root, await status()),
  );
}
