// Bench child. `node server.mjs rtt <dir>`: rtt serve's app (SQLite) → {"url"}.
// `node server.mjs raw <file>`: a bare TCP server writing <file>'s bytes to each connection, then closing → {"port"}.
import { createReadStream } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";

const [mode, arg] = process.argv.slice(2);
if (mode === "raw") {
  const server = createServer((socket) => {
    socket.on("error", () => {});
    createReadStream(arg, { highWaterMark: 64 * 1024 }).pipe(socket);
  });
  server.listen(0, "127.0.0.1", () => process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`));
  process.on("SIGTERM", () => process.exit(0));
} else {
  const { startServer } = await import("../../packages/server/dist/index.js");
  const s = await startServer({
    port: 0,
    db: join(arg, "bench.db"),
    logLevel: "warn",
    rateLimit: 0,
    sessionOutput: null,
    maxBody: 256 * 1024 * 1024,
  });
  process.stdout.write(`${JSON.stringify({ url: s.url })}\n`);
  process.on("SIGTERM", () => s.close().then(() => process.exit(0)));
}
