import { join, resolve } from "node:path";

/**
 * Where the fabric keeps its files, with the seed's names. Everything hangs off one root (`.rtt` in the working
 * directory by default); each CLI flag (`--registry DIR`, …) overrides one entry.
 */
export interface FabricPaths {
  root: string;
  registry: string;
  manifests: string;
  policy: string;
  routes: string;
  topology: string;
  /** The plan WAL (2PC records, Merkle checkpoints). */
  wal: string;
  /** The fabric daemon's control socket (UDS, 0600). */
  socket: string;
  /** Out-of-process drivers the daemon may start: `{symbol: {command, sandbox?}}`. */
  drivers: string;
}

export function fabricPaths(root = ".rtt", overrides: Partial<FabricPaths> = {}): FabricPaths {
  const r = resolve(root);
  return {
    root: r,
    registry: join(r, "registry"),
    manifests: join(r, "manifests"),
    policy: join(r, "policy.json"),
    routes: join(r, "routes.json"),
    topology: join(r, "topology.json"),
    wal: join(r, "wal", "fabric.wal"),
    socket: join(r, "fabric.sock"),
    drivers: join(r, "drivers.json"),
    ...overrides,
  };
}

/** The registry's fixed layout (seed 004, "CAS Registry"). */
export const registryLayout = (dir: string) => ({
  cas: join(dir, "cas", "sha256"),
  object: (hash: string) => join(dir, "cas", "sha256", `${hash}.json`),
  pack: join(dir, "pack", "agents.pack"),
  lut: join(dir, "pack", "index.lut"),
  keys: join(dir, "trust", "keys"),
  index: join(dir, "index.json"),
});
