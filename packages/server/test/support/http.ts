import { type IncomingHttpHeaders, request } from "node:http";
import { connect } from "node:net";

export interface Answer {
  /** 0 when the server cut the connection (or the client gave up, see `timedOut`). */
  status: number;
  /** The body as text (at most `keepBytes` of it). */
  body: string;
  /** Bytes of the whole body. */
  bytes: number;
  headers: IncomingHttpHeaders;
  /** From the request being sent to the end of the answer. */
  ms: number;
  timedOut: boolean;
}

/**
 * One HTTP request over node:http (no URL normalisation, no retries); resolves with the status, 0 when the
 * server cut the connection. The client gives up after `timeoutMs` (status 0, `timedOut`); it keeps the first
 * `keepBytes` of the body (all by default) and counts the rest.
 */
export function send(
  base: string,
  path: string,
  body: Buffer | string | undefined,
  headers: Record<string, string>,
  method = "POST",
  timeoutMs = 30_000,
  keepBytes = Number.POSITIVE_INFINITY,
): Promise<Answer> {
  return new Promise<Answer>((resolve) => {
    const started = performance.now();
    let done = false;
    const finish = (a: Omit<Answer, "ms">) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ ...a, ms: performance.now() - started });
    };
    const req = request(`${base}${path}`, { method, headers }, (res) => {
      const kept: Buffer[] = [];
      let keptBytes = 0;
      let bytes = 0;
      res.on("data", (c: Buffer) => {
        bytes += c.length;
        if (keptBytes >= keepBytes) return;
        const part = c.subarray(0, Math.min(c.length, keepBytes - keptBytes));
        kept.push(part);
        keptBytes += part.length;
      });
      const end = () =>
        finish({
          status: res.statusCode ?? 0,
          body: Buffer.concat(kept).toString("utf8"),
          bytes,
          headers: res.headers,
          timedOut: false,
        });
      res.on("end", end);
      res.on("error", end);
      res.on("close", end);
    });
    const timer = setTimeout(() => {
      req.destroy();
      finish({ status: 0, body: "", bytes: 0, headers: {}, timedOut: true });
    }, timeoutMs);
    req.on("error", () => finish({ status: 0, body: "", bytes: 0, headers: {}, timedOut: false }));
    req.end(body);
  });
}

export interface RawRequest {
  port: number;
  /** The request line and headers, each ending in CRLF, without the blank line that ends the head. */
  head: string;
  body?: Buffer | string;
  /**
   * Send the body a few bytes at a time: `bytes` every `everyMs`, for at most `forMs`; then the rest when `after`
   * is "wait", else nothing more (the client gives up mid-body).
   */
  drip?: { bytes: number; everyMs: number; forMs: number };
  /**
   * After the bytes are written: "wait" for the answer, "end" half-closes (FIN) then waits, "destroy" resets
   * the connection at once (a client that vanished mid-body).
   */
  after?: "wait" | "end" | "destroy";
  /** Bytes of the body actually sent (default all of it); the head may announce more. */
  sendBytes?: number;
  timeoutMs?: number;
}

export interface RawAnswer {
  /** 0 when no status line arrived. */
  status: number;
  head: string;
  body: string;
  /** The bytes after the head, as received. */
  rest: Buffer;
  /**
   * Server time: from the moment the client had sent all it meant to send (or from the head, when the answer
   * came before the body was sent, as a refusal should) to the first byte of the answer; -1 without one.
   */
  ms: number;
  /** Whole exchange, client side. */
  totalMs: number;
  timedOut: boolean;
  /** The answer arrived before the client had written its whole body. */
  early: boolean;
}

/**
 * One request written byte for byte on a TCP socket: anything node:http or fetch would refuse or fix up
 * (bad percent-encoding, lying content-length, foreign Host, a body sent a few bytes at a time). Always
 * bounded by `timeoutMs` (default 5 s), after which the socket is destroyed.
 */
export function rawRequest(r: RawRequest): Promise<RawAnswer> {
  const body = r.body === undefined ? Buffer.alloc(0) : Buffer.isBuffer(r.body) ? r.body : Buffer.from(r.body);
  const toSend = body.subarray(0, r.sendBytes ?? body.length);
  const after = r.after ?? "wait";
  return new Promise<RawAnswer>((resolve) => {
    const started = performance.now();
    const sock = connect({ host: "127.0.0.1", port: r.port });
    const chunks: Buffer[] = [];
    let headSentAt = -1;
    let sentAt = -1;
    let firstByteAt = -1;
    let settled = false;
    let dripTimer: NodeJS.Timeout | undefined;
    const finish = (timedOut: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (dripTimer) clearTimeout(dripTimer);
      sock.destroy();
      const all = Buffer.concat(chunks);
      const text = all.toString("latin1");
      const cut = text.indexOf("\r\n\r\n");
      const head = cut >= 0 ? text.slice(0, cut) : text;
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
      const early = firstByteAt >= 0 && (sentAt < 0 || firstByteAt < sentAt);
      const from = early ? headSentAt : sentAt;
      resolve({
        status: m ? Number(m[1]) : 0,
        head,
        body: cut >= 0 ? all.subarray(cut + 4).toString("utf8") : "",
        rest: cut >= 0 ? all.subarray(cut + 4) : Buffer.alloc(0),
        ms: firstByteAt >= 0 && from >= 0 ? firstByteAt - from : -1,
        totalMs: performance.now() - started,
        timedOut,
        early,
      });
    };
    const timer = setTimeout(() => finish(true), r.timeoutMs ?? 5_000);
    sock.on("data", (c: Buffer) => {
      if (firstByteAt < 0) firstByteAt = performance.now();
      chunks.push(c);
    });
    sock.on("end", () => finish(false));
    sock.on("close", () => finish(false));
    sock.on("error", () => finish(false));
    const done = () => {
      sentAt = performance.now();
      if (after === "destroy") finish(false);
      else if (after === "end") sock.end();
    };
    const write = (b: Buffer | string, cb?: () => void) => {
      if (settled || sock.destroyed) return;
      sock.write(b, (err) => {
        if (!err) cb?.();
      });
    };
    sock.on("connect", () => {
      write(`${r.head}\r\n`, () => {
        headSentAt = performance.now();
      });
      if (!r.drip) {
        if (toSend.length) write(toSend, done);
        else write("", done);
        return;
      }
      const { bytes, everyMs, forMs } = r.drip;
      const dripUntil = performance.now() + forMs;
      let off = 0;
      const tick = () => {
        if (settled || firstByteAt >= 0) return; // answered (refused) already: stop sending
        if (off >= toSend.length || performance.now() >= dripUntil) {
          if (after === "wait") write(toSend.subarray(off), done);
          else done();
          return;
        }
        write(toSend.subarray(off, off + bytes));
        off += bytes;
        dripTimer = setTimeout(tick, everyMs);
      };
      tick();
    });
  });
}

/** `HTTP/1.1` request head for `rawRequest`: request line, Host (unless given), the headers, `connection: close`. */
export function rawHead(method: string, path: string, headers: Record<string, string | number>, port: number): string {
  const lines = [`${method} ${path} HTTP/1.1`];
  const names = new Set(Object.keys(headers).map((h) => h.toLowerCase()));
  if (!names.has("host")) lines.push(`Host: 127.0.0.1:${port}`);
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  if (!names.has("connection")) lines.push("Connection: close");
  return `${lines.join("\r\n")}\r\n`;
}
