import { connect, createServer, type Server, type Socket } from "node:net";
import { FabricError } from "../errors.js";

/**
 * The TCP lane's transport: the same RTT1 frames as UDS (spec/fabric/frame.md), for fallback and cross-host. Off
 * unless asked for; loopback only unless a host is given explicitly (the lane carries no authentication of its own —
 * capability tokens do that).
 */
export async function listenTcp(host: string, port: number, onConnection: (s: Socket) => void): Promise<Server> {
  const server = createServer({ noDelay: true }, onConnection);
  await new Promise<void>((resolve, reject) => {
    server.once("error", (e: NodeJS.ErrnoException) =>
      reject(new FabricError("RTT_FABRIC_DAEMON", `cannot listen on TCP ${host}:${port}: ${e.code}`)),
    );
    server.listen(port, host, () => resolve());
  });
  return server;
}

/** Parses `HOST:PORT` (`[v6]:PORT` too). */
export function parseHostPort(s: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(s);
  const port = Number(m?.[3]);
  if (!m || !(port >= 0 && port <= 65535))
    throw new FabricError("RTT_FABRIC_USAGE", `expected HOST:PORT, not ${JSON.stringify(s)}`);
  return { host: (m[1] ?? m[2]) as string, port };
}

export function connectTcp(host: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host, port, noDelay: true });
    const fail = (e: NodeJS.ErrnoException) =>
      reject(new FabricError("RTT_FABRIC_DAEMON", `no fabric daemon answers on TCP ${host}:${port} (${e.code})`));
    s.once("error", fail);
    s.once("connect", () => {
      s.off("error", fail);
      resolve(s);
    });
  });
}
