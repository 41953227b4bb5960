export * from "./badge.js";
export * from "./cases.js";
export * from "./harness.js";
export * from "./judge.js";
export * from "./junit.js";
export { Implementation, type Outcome } from "./process.js";
