// A→B fan-out for several rtt serve instances (issue 21, docs/observability.md): PostgreSQL LISTEN/NOTIFY with the
// payload in a table (the notify names the row) vs NATS core pub/sub. Needs PostgreSQL at 127.0.0.1:5432 (database
// `test`) and a NATS server at 127.0.0.1:4222. Run: node bench/fanout/measure.mjs
// Latency: publisher commits/publishes, subscriber on another connection receives; 2,000 messages, 1 ms apart.
// Reconnect: subscriber's connection goes through a TCP proxy that is cut for ~1 s while 200 messages are sent.

import { createRequire } from "node:module";
import net from "node:net";

const require = createRequire(new URL("../../packages/server/package.json", import.meta.url));
const pg = require("pg");
const { connect } = await import(
  createRequire(new URL("../../packages/fabric/package.json", import.meta.url)).resolve("@nats-io/transport-node")
);

function proxy(target) {
  const socks = new Set();
  let paused = false;
  const srv = net.createServer((c) => {
    if (paused) return c.destroy();
    const u = net.connect(target.port, target.host);
    socks.add(c);
    socks.add(u);
    c.setNoDelay(true);
    u.setNoDelay(true);
    c.pipe(u);
    u.pipe(c);
    const end = () => {
      c.destroy();
      u.destroy();
      socks.delete(c);
      socks.delete(u);
    };
    c.on("error", end);
    u.on("error", end);
    c.on("close", end);
    u.on("close", end);
  });
  return new Promise((r) =>
    srv.listen(0, "127.0.0.1", () =>
      r({
        port: srv.address().port,
        cut(ms) {
          paused = true;
          for (const s of socks) s.destroy();
          setTimeout(() => {
            paused = false;
          }, ms);
        },
        close() {
          paused = true;
          for (const s of socks) s.destroy();
          srv.close();
        },
      }),
    ),
  );
}
const pct = (a, p) => {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.floor((s.length - 1) * p)];
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const N = 2000;
process.on("unhandledRejection", (e) => console.error("unhandled", e?.name));

async function pgRun() {
  const url = "postgres://postgres@127.0.0.1:5432/test";
  const pub = new pg.Pool({ connectionString: url, max: 2 });
  await pub.query("CREATE TABLE IF NOT EXISTS fanout_probe (id BIGSERIAL PRIMARY KEY, body TEXT)");
  await pub.query("TRUNCATE fanout_probe");
  const px = await proxy({ host: "127.0.0.1", port: 5432 });
  const got = new Map();
  let last = 0n;
  let reconnects = 0;
  const reconnectMs = [];
  let sub;
  let stopping = false;
  const committed = new Map();
  const commitMs = [];
  let reconnecting = false;
  const onEnd = async () => {
    if (reconnecting || stopping) return;
    reconnecting = true;
    const t0 = performance.now();
    for (;;) {
      await sleep(50);
      try {
        await listen();
        break;
      } catch {
        sub.removeAllListeners("end");
        sub.end().catch(() => {});
      }
    }
    reconnects++;
    reconnectMs.push(performance.now() - t0);
    reconnecting = false;
  };
  const listen = async () => {
    sub = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${px.port}/test` });
    sub.on("error", () => {});
    await sub.connect();
    sub.on("end", onEnd);
    sub.on("notification", (n) => fetchNew(Number(n.payload)));
    await sub.query("LISTEN fanout_probe");
    await fetchNew(0); // catch up from the table after (re)connecting
  };
  let fetching = Promise.resolve();
  const fetchNew = (_hint) =>
    (fetching = fetching.then(async () => {
      const r = await sub
        .query("SELECT id, body FROM fanout_probe WHERE id > $1 ORDER BY id", [String(last)])
        .catch(() => ({ rows: [] }));
      const now = performance.now();
      for (const row of r.rows) {
        last = BigInt(row.id);
        if (!got.has(row.id)) got.set(row.id, now);
      }
    }));
  await listen();
  const send = async () => {
    const c = await pub.connect();
    try {
      await c.query("BEGIN");
      const r = await c.query("INSERT INTO fanout_probe (body) VALUES ($1) RETURNING id", [String(performance.now())]);
      await c.query("SELECT pg_notify('fanout_probe', $1)", [r.rows[0].id]);
      await c.query("COMMIT");
      committed.set(r.rows[0].id, performance.now());
    } finally {
      c.release();
    }
  };
  for (let i = 0; i < N; i++) {
    const t = performance.now();
    await send();
    commitMs.push(performance.now() - t);
    await sleep(1);
  }
  await sleep(300);
  const lat = [...got].map(([id, at]) => at - committed.get(id));
  const before = got.size;
  px.cut(1000);
  for (let i = 0; i < 200; i++) {
    await send();
    await sleep(5);
  }
  await sleep(2500);
  const out = {
    transport: "pg LISTEN/NOTIFY + table",
    commit_p50: pct(commitMs, 0.5).toFixed(3),
    n: before,
    p50: pct(lat, 0.5).toFixed(3),
    p99: pct(lat, 0.99).toFixed(3),
    after_cut: {
      sent: 200,
      received: got.size - before,
      reconnects,
      reconnect_ms: reconnectMs.map((x) => Math.round(x)),
    },
  };
  stopping = true;
  await sub.end().catch(() => {});
  await pub.query("DROP TABLE fanout_probe");
  await pub.end();
  px.close();
  return out;
}

async function natsRun() {
  const px = await proxy({ host: "127.0.0.1", port: 4222 });
  const pub = await connect({ servers: "127.0.0.1:4222" });
  const sub = await connect({ servers: `127.0.0.1:${px.port}`, reconnectTimeWait: 50, maxReconnectAttempts: -1 });
  const got = new Map();
  let reconnects = 0;
  let disc = 0;
  const reconnectMs = [];
  (async () => {
    for await (const s of sub.status()) {
      if (s.type === "disconnect") disc = performance.now();
      if (s.type === "reconnect") {
        reconnects++;
        reconnectMs.push(performance.now() - disc);
      }
    }
  })();
  const subj = `fanout.probe.${process.pid}`;
  const s = sub.subscribe(subj);
  (async () => {
    for await (const m of s) {
      const [i, sent] = new TextDecoder().decode(m.data).split(" ");
      got.set(i, performance.now() - Number(sent));
    }
  })();
  await sub.flush();
  for (let i = 0; i < N; i++) {
    pub.publish(subj, `${i} ${performance.now()}`);
    await sleep(1);
  }
  await sleep(300);
  const lat = [...got.values()];
  const before = got.size;
  px.cut(1000);
  for (let i = N; i < N + 200; i++) {
    pub.publish(subj, `${i} ${performance.now()}`);
    await sleep(5);
  }
  await sleep(2500);
  const out = {
    transport: "NATS core pub/sub",
    n: before,
    p50: pct(lat, 0.5).toFixed(3),
    p99: pct(lat, 0.99).toFixed(3),
    after_cut: {
      sent: 200,
      received: got.size - before,
      reconnects,
      reconnect_ms: reconnectMs.map((x) => Math.round(x)),
    },
  };
  await sub.close();
  await pub.close();
  px.close();
  return out;
}
console.log(JSON.stringify(await pgRun()));
console.log(JSON.stringify(await natsRun()));
