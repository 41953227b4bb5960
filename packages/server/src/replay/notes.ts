import type { FastifyInstance } from "fastify";
import type { AppContext } from "../context.js";
import { type ErrorDetail, httpError } from "../errors.js";
import { parseQuery } from "../routes/params.js";
import { loadSession } from "./routes.js";

export const MAX_NOTE_TEXT = 10_000;
export const MAX_NOTE_AUTHOR = 200;

interface NoteBody {
  t: number;
  text: string;
  author: string;
  segment_id?: string | null;
}

function parseNote(body: unknown): NoteBody {
  if (typeof body !== "object" || body === null || Array.isArray(body))
    throw httpError("RTT_ERR_INVALID_INPUT", "a note is a JSON object {t, text, author, segment_id?}");
  const b = body as Record<string, unknown>;
  const details: ErrorDetail[] = [];
  for (const k of Object.keys(b))
    if (!["t", "text", "author", "segment_id"].includes(k))
      details.push({ path: `/${k}`, message: "unknown field (allowed: t, text, author, segment_id)" });
  if (typeof b.t !== "number" || !Number.isFinite(b.t))
    details.push({ path: "/t", message: "expected a finite number" });
  if (typeof b.text !== "string" || b.text.trim() === "" || b.text.length > MAX_NOTE_TEXT)
    details.push({ path: "/text", message: `expected a non-empty string of at most ${MAX_NOTE_TEXT} characters` });
  if (typeof b.author !== "string" || b.author.trim() === "" || b.author.length > MAX_NOTE_AUTHOR)
    details.push({ path: "/author", message: `expected a non-empty string of at most ${MAX_NOTE_AUTHOR} characters` });
  if (b.segment_id !== undefined && b.segment_id !== null && typeof b.segment_id !== "string")
    details.push({ path: "/segment_id", message: "expected a string or null" });
  for (const k of ["text", "author", "segment_id"])
    if (typeof b[k] === "string" && (b[k] as string).includes("\u0000"))
      details.push({ path: `/${k}`, message: "NUL characters are not allowed" });
  if (details.length) throw httpError("RTT_ERR_INVALID_INPUT", "invalid note", details);
  return b as unknown as NoteBody;
}

/** Instructor notes: POST/GET /replay/{id}/notes, stored with the session. */
export function noteRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.get<{ Params: { id: string } }>("/replay/:id/notes", async (req) => {
    parseQuery(req.query, {});
    await loadSession(ctx, req.params.id);
    return ctx.store.listNotes(req.params.id);
  });

  app.post<{ Params: { id: string } }>("/replay/:id/notes", async (req, reply) => {
    const note = parseNote(req.body);
    const rec = await loadSession(ctx, req.params.id);
    const segmentId = note.segment_id ?? null;
    if (segmentId !== null && !rec.summary.segments.some((s) => s.segment_id === segmentId))
      throw httpError("RTT_ERR_INVALID_INPUT", "invalid note", [
        {
          path: "/segment_id",
          message: `no segment ${JSON.stringify(segmentId)} in this session (segments: ${rec.summary.segments.map((s) => s.segment_id).join(", ")})`,
        },
      ]);
    const created = await ctx.store.addNote({
      session_id: req.params.id,
      t: note.t,
      text: note.text,
      author: note.author,
      segment_id: segmentId,
    });
    return reply.code(201).send(created);
  });
}
