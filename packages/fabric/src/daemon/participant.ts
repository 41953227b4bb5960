import { join } from "node:path";
import { fabricPaths } from "../paths.js";
import {
  LocalParticipant,
  type Participant,
  type ParticipantState,
  type Transition,
  type Vote,
} from "../reconcile/participant.js";
import type { ReconcilePaths } from "../reconcile/paths.js";
import { FabricClient } from "./client.js";

/**
 * The fabric daemon as a 2PC participant (reconcile/participant.ts's contract), over its control socket: prepare
 * stages the table and starts the endpoints it needs, commit switches (in-flight calls finish on the old endpoints,
 * which then stop), abort drops the staged table. A daemon that does not answer votes no (prepare) or throws.
 */
export class DaemonParticipant implements Participant {
  readonly name: string;

  constructor(
    readonly socket: string = fabricPaths().socket,
    name = "fabric-daemon",
    private readonly timeoutMs = 30_000,
  ) {
    this.name = name;
  }

  private async with<T>(f: (c: FabricClient) => Promise<T>): Promise<T> {
    const c = await FabricClient.uds(this.socket);
    try {
      return await f(c);
    } finally {
      c.close();
    }
  }

  async prepare(t: Transition): Promise<Vote> {
    try {
      return await this.with((c) => c.control<Vote>("prepare", { transition: t }, { timeoutMs: this.timeoutMs }));
    } catch (e) {
      return { ok: false, reason: `${this.socket}: ${(e as Error).message}` };
    }
  }

  async commit(t: Transition): Promise<void> {
    await this.with((c) => c.control("commit", { transition: t }, { timeoutMs: this.timeoutMs }));
  }

  async abort(t: Transition): Promise<void> {
    await this.with((c) => c.control("abort", { transition: t }, { timeoutMs: this.timeoutMs }));
  }

  async state(): Promise<ParticipantState | null> {
    return this.with((c) => c.control<ParticipantState>("state", {}, { timeoutMs: this.timeoutMs }));
  }
}

/** Whether a fabric daemon answers `hello` on `socket` within `timeoutMs` (a stale socket file or none: false). */
export async function daemonAnswers(socket: string, timeoutMs = 2000): Promise<boolean> {
  let c: FabricClient | undefined;
  try {
    c = await FabricClient.uds(socket);
    const h = await c.control<{ daemon?: string }>("hello", {}, { timeoutMs });
    return h?.daemon === "rtt-fabric";
  } catch {
    return false;
  } finally {
    c?.close();
  }
}

/**
 * The participants of `rtt plan apply | rollback | recover | status`: the local participant (`fabric/routes.json`,
 * what a daemon loads at start) and, when a fabric daemon answers on the root's control socket
 * (`<root>/fabric.sock`, or `socket`), that daemon — so the table it serves changes by 2PC with the WAL. With no
 * daemon running, the local participant alone (the daemon started later reads routes.json).
 */
export async function fabricParticipants(paths: ReconcilePaths, socket?: string): Promise<Participant[]> {
  const out: Participant[] = [new LocalParticipant(paths.table)];
  const sock = socket ?? join(paths.root, "fabric.sock");
  if (await daemonAnswers(sock)) out.push(new DaemonParticipant(sock));
  return out;
}
