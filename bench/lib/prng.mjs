// Seeded PRNG (mulberry32) for the benches: the same seed gives the same sequence on every run, so each bench
// measures the same generated data (recorded results in bench/RESULTS.md rely on it).

/** A function returning floats in [0, 1), the mulberry32 sequence of `seed`. */
export function prng(seed) {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
