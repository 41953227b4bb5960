// Seeded PRNG for the benches: core's mulberry32, so the same seed gives the same sequence on every run and each
// bench measures the same generated data (recorded results in bench/RESULTS.md rely on it). Needs the built core.
export { seededRandom as prng } from "../../packages/core/dist/index.js";
