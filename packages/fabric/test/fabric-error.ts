import { expect } from "vitest";
import { FabricError } from "../src/errors.js";

/** `e` is a FabricError with this code (and `text` in its message when given). */
function checked(e: unknown, code: string, text?: string): FabricError {
  expect(e).toBeInstanceOf(FabricError);
  expect((e as FabricError).code, (e as Error).message).toBe(code);
  if (text !== undefined) expect((e as Error).message).toContain(text);
  return e as FabricError;
}

/** The FabricError `fn` throws: fails unless it throws one with this code (and `text` in its message). */
export function expectFabricError(fn: () => unknown, code: string, text?: string): FabricError {
  try {
    fn();
  } catch (e) {
    return checked(e, code, text);
  }
  throw new Error(`expected ${code}`);
}

/** The same for a promise, or a function whose promise (or throw) is checked. */
export async function rejectsFabricError(
  p: Promise<unknown> | (() => unknown),
  code: string,
  text?: string,
): Promise<FabricError> {
  try {
    await (typeof p === "function" ? p() : p);
  } catch (e) {
    return checked(e, code, text);
  }
  throw new Error(`expected ${code}`);
}
