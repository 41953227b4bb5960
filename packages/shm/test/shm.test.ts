import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import * as shm from "@rtt/shm";
import { afterEach, describe, expect, it } from "vitest";

const names: string[] = [];
const fresh = () => {
  const n = `/rtt-test-${process.pid}-${names.length}`;
  names.push(n);
  return n;
};
afterEach(() => {
  for (const n of names.splice(0)) shm.unlink(n);
});

const ADDON = fileURLToPath(new URL("../dist/index.js", import.meta.url));

describe("@rtt/shm", () => {
  it("maps one segment twice: a write through one mapping is read through the other", () => {
    const name = fresh();
    const a = new Int32Array(shm.create(name, 4096));
    const b = new Int32Array(shm.open(name, 4096));
    a[10] = 1234;
    expect(b[10]).toBe(1234);
    expect(() => shm.create(name, 4096)).toThrow(/File exists/);
  });

  it("wait reports not-equal and time-outs; waitAsync wakes without blocking the event loop", async () => {
    const name = fresh();
    const buf = shm.create(name, 64);
    const w = new Int32Array(buf);
    expect(shm.wait(buf, 0, 7, 0)).toBe(shm.NOT_EQUAL);
    expect(shm.wait(buf, 0, 0, 1000)).toBe(shm.TIMED_OUT);
    const parked = shm.waitAsync(buf, 0, 0, 5_000_000);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    await new Promise((r) => setTimeout(r, 30));
    Atomics.store(w, 0, 1);
    expect(shm.wake(buf, 0, 1)).toBe(1);
    expect(await parked).toBe(shm.WOKEN);
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(3);
  });

  it("a futex wake crosses processes (a child parks on the shared word, the parent wakes it)", async () => {
    const name = fresh();
    const buf = shm.create(name, 64);
    const w = new Int32Array(buf);
    const child = spawn(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `import * as shm from ${JSON.stringify(ADDON)};
         const buf = shm.open(${JSON.stringify(name)}, 64); const w = new Int32Array(buf);
         Atomics.store(w, 1, 1); shm.wake(buf, 4, 1);              // ready
         const r = shm.wait(buf, 0, 0, 5_000_000);                 // parked until the parent writes
         Atomics.store(w, 3, r); Atomics.store(w, 2, w[0] * 2); shm.wake(buf, 8, 1);`,
      ],
      { stdio: "inherit" },
    );
    const exited = new Promise<number | null>((r) => child.on("exit", r));
    while (Atomics.load(w, 1) === 0) await shm.waitAsync(buf, 4, 0, 100_000);
    await new Promise((r) => setTimeout(r, 20)); // let the child reach its wait
    Atomics.store(w, 0, 21);
    shm.wake(buf, 0, 1);
    while (Atomics.load(w, 2) === 0) await shm.waitAsync(buf, 8, 0, 100_000);
    expect(Atomics.load(w, 2)).toBe(42);
    // Woken by the parent's wake (or, on a loaded machine, never parked because the word had changed): not the 5 s
    // time-out, which is what a wake that did not cross processes would give.
    expect([shm.WOKEN, shm.NOT_EQUAL]).toContain(Atomics.load(w, 3));
    expect(await exited).toBe(0);
  });

  it("refuses bad names, sizes and offsets with a clear error", () => {
    expect(() => shm.create("no-slash", 64)).toThrow(/name must look like/);
    expect(() => shm.create("/a/b", 64)).toThrow(/name must look like/);
    expect(() => shm.create(fresh(), 0)).toThrow(/size must be/);
    const buf = shm.create(fresh(), 64);
    expect(() => shm.wake(buf, 62, 1)).toThrow(/4-byte aligned offset inside/);
    expect(() => shm.waitAsync(buf, 0, 0, -1)).toThrow(/timeout between/);
    // Both waits parse their arguments in one place: the usage names the call that was made.
    expect(() => (shm.wait as (...a: unknown[]) => number)(buf, 0, 0)).toThrow(/^wait\(buffer, byteOffset/);
    expect(() => (shm.waitAsync as (...a: unknown[]) => unknown)(buf, 0)).toThrow(/^waitAsync\(buffer/);
    expect(() => shm.wait(buf, 61, 0, 0)).toThrow(/4-byte aligned offset inside/);
    expect(() => shm.open("/rtt-does-not-exist", 64)).toThrow(/No such file/);
  });
});
