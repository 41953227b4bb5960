// Bench child: `node bench/ingest/server.mjs <bare|sqlite|postgres> <dir> [pgUrl] [schema]`; prints {"url"} when listening.
// bare: a Fastify route that only parses the JSON body (the baseline). append: the same route, and each body
// appended to a file and fsync'ed (one fdatasync per batch) before the reply: the least any durable server writes,
// a reference for what this machine's disk path costs. sqlite/postgres: `rtt serve`'s app, durable.
import { open } from "node:fs/promises";
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
} else if (mode === "append") {
  const { default: Fastify } = await import("fastify");
  const app = Fastify({ bodyLimit: 10 * 1024 * 1024 });
  app.addContentTypeParser("application/json", { parseAs: "buffer" }, (_req, raw, done) => {
    try {
      done(null, { raw, value: JSON.parse(raw.toString("utf8")) });
    } catch (e) {
      e.statusCode = 400; // a malformed body is the client's fault, as with Fastify's own parser
      done(e);
    }
  });
  const file = await open(join(dir, "append.ndjson"), "a");
  const newline = Buffer.from("\n");
  let waiting = []; // {raw, resolve} of bodies not yet handed to a write
  let flushing = false;
  const flush = async () => {
    flushing = true;
    while (waiting.length) {
      const batch = waiting;
      waiting = [];
      await file.writev(batch.flatMap((w) => [w.raw, newline]));
      await file.datasync();
      for (const w of batch) w.resolve();
    }
    flushing = false;
  };
  app.post("/sessions", async (req, reply) => {
    await new Promise((resolve) => {
      waiting.push({ raw: req.body.raw, resolve });
      if (!flushing) void flush();
    });
    return reply.code(201).send({ session_id: req.body.value.session_id });
  });
  url = await app.listen({ host: "127.0.0.1", port: 0 });
  close = async () => {
    await app.close();
    await file.close();
  };
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
