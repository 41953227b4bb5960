// Bench child: `node bench/ingest/server.mjs <bare|sqlite|postgres> <dir> [pgUrl] [schema]`; prints {"url"} when listening.
// bare: a Fastify route that only parses the JSON body (the baseline). sqlite/postgres: `rtt serve`'s app, durable.
import { join } from "node:path";

const [mode, dir, pgUrl, schema] = process.argv.slice(2);
let close;
let url;
if (mode === "bare") {
  const { default: Fastify } = await import("fastify");
  const app = Fastify({ bodyLimit: 10 * 1024 * 1024 });
  app.post("/sessions", async (req, reply) => reply.code(201).send({ session_id: req.body.session_id }));
  url = await app.listen({ host: "127.0.0.1", port: 0 });
  close = () => app.close();
} else {
  const { startServer } = await import("../../packages/server/dist/index.js");
  const s = await startServer({
    port: 0,
    db: mode === "postgres" ? pgUrl : join(dir, "bench.db"),
    pgSchema: mode === "postgres" ? schema : undefined,
    logFile: join(dir, `sessions-${mode}.ndjson`),
    logLevel: "warn",
    rateLimit: 0,
  });
  url = s.url;
  close = async () => {
    await s.close();
  };
}
process.stdout.write(`${JSON.stringify({ url })}\n`);
process.on("SIGTERM", () => close().then(() => process.exit(0)));
