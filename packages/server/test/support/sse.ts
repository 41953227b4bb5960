import { request } from "node:http";

export interface SseEvent {
  event: string;
  id?: string;
  data: string;
  /** ms since the request was sent */
  at: number;
}

export interface SseResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  events: SseEvent[];
  /** body when the response was not an event stream */
  body?: string;
}

/**
 * A real SSE client over node:http: parses `event:`/`id:`/`data:` frames as they arrive.
 * `stopAfter` destroys the connection after that many events (a client leaving mid-stream).
 */
export function readSse(
  url: string,
  opts: { headers?: Record<string, string>; stopAfter?: number } = {},
): Promise<SseResult> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = request(url, { headers: { accept: "text/event-stream", ...opts.headers } }, (res) => {
      const result: SseResult = { status: res.statusCode ?? 0, headers: res.headers, events: [] };
      res.setEncoding("utf8");
      if (!String(res.headers["content-type"]).startsWith("text/event-stream")) {
        let body = "";
        res.on("data", (c: string) => {
          body += c;
        });
        res.on("end", () => resolve({ ...result, body }));
        return;
      }
      let buf = "";
      res.on("data", (chunk: string) => {
        buf += chunk;
        let cut = buf.indexOf("\n\n");
        while (cut >= 0) {
          const frame = buf.slice(0, cut);
          buf = buf.slice(cut + 2);
          cut = buf.indexOf("\n\n");
          const ev: SseEvent = { event: "message", data: "", at: performance.now() - started };
          let isComment = true;
          for (const line of frame.split("\n")) {
            if (line.startsWith(":")) continue;
            isComment = false;
            const i = line.indexOf(":");
            const field = line.slice(0, i);
            const value = line.slice(i + 1).replace(/^ /, "");
            if (field === "event") ev.event = value;
            else if (field === "id") ev.id = value;
            else if (field === "data") ev.data += value;
          }
          if (isComment) continue;
          result.events.push(ev);
          if (opts.stopAfter !== undefined && result.events.length >= opts.stopAfter) {
            req.destroy();
            resolve(result);
            return;
          }
        }
      });
      res.on("end", () => resolve(result));
      res.on("error", () => resolve(result));
    });
    req.on("error", (e) => (opts.stopAfter !== undefined ? undefined : reject(e)));
    req.end();
  });
}
