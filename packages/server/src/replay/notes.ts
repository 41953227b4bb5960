import { invalid, NO_QUERY, q } from "@rtt/http";
import type { FastifyInstance } from "fastify";
import type { AppContext } from "../context.js";
import { loadSession } from "./routes.js";

export const MAX_NOTE_TEXT = 10_000;
export const MAX_NOTE_AUTHOR = 200;

interface NoteBody {
  t: number;
  text: string;
  author: string;
  segment_id?: string | null;
}

/** Not blank, no NUL character (stored and indexed as text). */
const text = (max: number) => ({
  ...q.pattern("^(?!\\s*$)[^\\u0000]*$", "text that is not blank and has no NUL characters"),
  maxLength: max,
});

const NOTE_BODY = q.object(
  {
    t: q.number(),
    text: text(MAX_NOTE_TEXT),
    author: text(MAX_NOTE_AUTHOR),
    segment_id: q.nullable(q.pattern("^[^\\u0000]*$", "a segment id without NUL characters")),
  },
  ["t", "text", "author"],
);

/** Instructor notes: POST/GET /replay/{id}/notes, stored with the session. */
export function noteRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.get<{ Params: { id: string } }>("/replay/:id/notes", { schema: NO_QUERY }, async (req) => {
    await loadSession(ctx, req.params.id);
    return ctx.store.listNotes(req.params.id);
  });

  app.post<{ Params: { id: string }; Body: NoteBody }>(
    "/replay/:id/notes",
    { schema: { body: NOTE_BODY } },
    async (req, reply) => {
      const note = req.body;
      const rec = await loadSession(ctx, req.params.id);
      const segmentId = note.segment_id ?? null;
      if (segmentId !== null && !rec.summary.segments.some((s) => s.segment_id === segmentId))
        throw invalid("body", [
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
    },
  );
}
