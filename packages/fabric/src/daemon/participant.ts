import { fabricPaths } from "../paths.js";
import type { Participant, ParticipantState, Transition, Vote } from "../reconcile/participant.js";
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
