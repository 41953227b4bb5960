import { createRequire } from "node:module";

/** What the addon (src/shm.c) exports. */
interface Native {
  map(name: string, size: number, create: boolean): ArrayBuffer;
  unlink(name: string): void;
  wait(buffer: ArrayBuffer, byteOffset: number, expected: number, timeoutMicros: number): WaitResult;
  waitAsync(buffer: ArrayBuffer, byteOffset: number, expected: number, timeoutMicros: number): Promise<WaitResult>;
  wake(buffer: ArrayBuffer, byteOffset: number, count: number): number;
}

/** 0: woken (or spurious: re-check the word), 1: timed out, 2: the word no longer held `expected`. */
export type WaitResult = 0 | 1 | 2;
export const WOKEN = 0;
export const TIMED_OUT = 1;
export const NOT_EQUAL = 2;

const native = createRequire(import.meta.url)("../build/Release/rtt_shm.node") as Native;

/**
 * Creates a POSIX shared-memory segment `/dev/shm/<name>` of `size` bytes (refuses an existing one) and maps it. The
 * ArrayBuffer is the shared pages themselves: writes are seen by every process that maps the same name.
 */
export const create = (name: string, size: number): ArrayBuffer => native.map(name, size, true);

/** Maps an existing segment; `size` must not exceed its length. */
export const open = (name: string, size: number): ArrayBuffer => native.map(name, size, false);

/** Removes the name; mappings stay valid until their ArrayBuffers are collected. Missing names are fine. */
export const unlink = (name: string): void => native.unlink(name);

/** Parks the calling thread until the 32-bit word at `byteOffset` is woken or `timeoutMicros` pass (-1: forever). */
export const wait = (buffer: ArrayBuffer, byteOffset: number, expected: number, timeoutMicros: number): WaitResult =>
  native.wait(buffer, byteOffset, expected, timeoutMicros);

/**
 * Parks a libuv thread-pool thread instead of the caller, so the event loop keeps running (timeout ≤ 60 s: a pool
 * thread never sleeps forever). Each pending wait holds one of the pool's threads (UV_THREADPOOL_SIZE, default 4).
 */
export const waitAsync = (
  buffer: ArrayBuffer,
  byteOffset: number,
  expected: number,
  timeoutMicros: number,
): Promise<WaitResult> => native.waitAsync(buffer, byteOffset, expected, timeoutMicros);

/** Wakes up to `count` waiters on the word, in any process; returns how many woke. */
export const wake = (buffer: ArrayBuffer, byteOffset: number, count = 1): number =>
  native.wake(buffer, byteOffset, count);
