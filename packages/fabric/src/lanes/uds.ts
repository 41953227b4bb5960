import { chmodSync, lstatSync, rmSync } from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";
import { FabricError } from "../errors.js";

/**
 * The UDS lane's transport (spec/fabric/daemon.md, "Lanes"): length-prefixed RTT1 frames over node:net on a Unix
 * domain socket. The socket file is created 0600 (only its owner may connect) and a live one is never taken over:
 * `listenUds` first tries to connect; a socket nobody answers on is stale and is replaced.
 */
export async function listenUds(path: string, onConnection: (s: Socket) => void): Promise<Server> {
  if (await socketAlive(path))
    throw new FabricError("RTT_FABRIC_DAEMON", "another fabric daemon is serving this socket", path);
  try {
    if (lstatSync(path).isSocket()) rmSync(path, { force: true });
  } catch {
    // no socket file: fine
  }
  const server = createServer({ pauseOnConnect: false }, onConnection);
  const umask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(path, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } finally {
    process.umask(umask);
  }
  chmodSync(path, 0o600);
  return server;
}

/** Whether something accepts connections on the socket at `path` (false for a stale file or none). */
export function socketAlive(path: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    const done = (alive: boolean) => {
      clearTimeout(t);
      s.destroy();
      resolve(alive);
    };
    const t = setTimeout(() => done(true), timeoutMs); // accepted but silent: someone holds it
    s.once("connect", () => done(true));
    s.once("error", () => done(false));
  });
}

/** Connects to a UDS lane; rejects with RTT_FABRIC_DAEMON when no daemon listens there. */
export function connectUds(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(path);
    s.once("connect", () => {
      s.off("error", fail);
      resolve(s);
    });
    const fail = (e: NodeJS.ErrnoException) =>
      reject(new FabricError("RTT_FABRIC_DAEMON", `no fabric daemon answers (${e.code ?? e.message})`, path));
    s.once("error", fail);
  });
}
