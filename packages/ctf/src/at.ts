/**
 * `xs[i]` where `i` is in range by construction (a loop bound, an index just found); a broken invariant throws
 * instead of letting `undefined` through (the compiler checks indexed access: noUncheckedIndexedAccess).
 */
export function at<T>(xs: ArrayLike<T>, i: number): T {
  const v = xs[i];
  if (v === undefined) throw new RangeError(`index ${i} outside 0..${xs.length - 1}`);
  return v;
}
