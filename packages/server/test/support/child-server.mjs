// Runs the server from sources in a child process (tests kill it with SIGKILL).
// Usage: node --import ./register.mjs child-server.mjs '<json StartOptions>'
// Prints one line {"url": "..."} on stdout once listening.
const { startServer } = await import("../../src/server.ts");
const opts = JSON.parse(process.argv[2] ?? "{}");
const workerExecArgv = ["--import", new URL("./register.mjs", import.meta.url).href];
const server = await startServer({
  port: 0,
  logLevel: "warn",
  sessionOutput: null,
  rateLimit: 0,
  workerExecArgv,
  ...opts,
});
process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);
const stop = () => server.close().then(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
