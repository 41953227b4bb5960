import { useMemo, useState } from "react";
import { api, type Note, type SegmentInfo } from "../api.js";
import { useQuery } from "../query.js";
import { fmtT } from "../util.js";

const NO_NOTES: Note[] = [];

/** The session's instructor notes, and a way to add one just saved. A failed load is shown, not thrown. */
export function useNotes(id: string) {
  const loaded = useQuery(["notes", id], (s) => api.notes(id, s));
  // Notes saved on this page, until a load that already holds them.
  const [saved, setSaved] = useState<Note[]>([]);
  const stored = loaded.data ?? NO_NOTES;
  const notes = useMemo(() => {
    if (!saved.length) return stored;
    const have = new Set(stored.map((n) => String(n.id)));
    return [...stored, ...saved.filter((n) => !have.has(String(n.id)))];
  }, [stored, saved]);
  const added = (n: Note) => setSaved((old) => [...old, n]);
  return { notes, error: loaded.state === "error" ? loaded.error : null, added };
}

export function NotesPanel(props: {
  id: string;
  notes: Note[];
  error: Error | null;
  seg: SegmentInfo;
  t: number;
  segments: SegmentInfo[];
  onAdded: (n: Note) => void;
  onSeek: (segId: string, t: number) => void;
}) {
  const { id, notes, error, seg, t, segments, onAdded, onSeek } = props;
  const [text, setText] = useState("");
  const [author, setAuthor] = useState(() => localStorage.getItem("rtt.author") ?? "");
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<string | null>(null);
  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    if (!text.trim() || !author.trim()) {
      setErr("Write a note and your name first.");
      return;
    }
    setBusy(true);
    setErr(null);
    try {
      const n = await api.addNote(id, { t, text: text.trim(), author: author.trim(), segment_id: seg.segment_id });
      localStorage.setItem("rtt.author", author.trim());
      onAdded(n);
      setText("");
    } catch (ex) {
      setErr((ex as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const label = (sid?: string | null) => segments.find((s) => s.segment_id === sid)?.label ?? "";
  const sorted = [...notes].sort(
    (a, b) =>
      segments.findIndex((s) => s.segment_id === a.segment_id) -
        segments.findIndex((s) => s.segment_id === b.segment_id) || a.t - b.t,
  );
  return (
    <section className="notes" aria-label="Instructor notes" data-testid="notes">
      <h3>Instructor notes</h3>
      {error ? <p className="error-text">Notes unavailable: {error.message}</p> : null}
      {sorted.length === 0 && !error ? (
        <p className="muted small" data-testid="notes-empty">
          No notes yet. Pause where something happened and add one below.
        </p>
      ) : (
        <ul className="note-list">
          {sorted.map((n) => (
            <li key={String(n.id)} data-testid="note">
              <button
                type="button"
                className="linklike mono"
                onClick={() => onSeek(n.segment_id ?? seg.segment_id, n.t)}
              >
                {label(n.segment_id)} {fmtT(n.t)}
              </button>{" "}
              <span className="note-text">{n.text}</span> <span className="muted small">— {n.author}</span>
            </li>
          ))}
        </ul>
      )}
      <form onSubmit={submit} className="note-form" data-testid="note-form">
        <div className="muted small">
          at{" "}
          <span className="mono">
            {seg.label} t={fmtT(t, 4)}
          </span>
        </div>
        <textarea
          aria-label="Note text"
          placeholder="What happened here? Which control action preceded it?"
          value={text}
          rows={2}
          onChange={(e) => setText(e.target.value)}
          data-testid="note-text"
        />
        <div className="row">
          <input
            aria-label="Author"
            placeholder="Your name"
            value={author}
            onChange={(e) => setAuthor(e.target.value)}
            data-testid="note-author"
          />
          <button type="submit" disabled={busy} data-testid="note-submit">
            {busy ? "Saving…" : "Add note"}
          </button>
        </div>
        {err ? (
          <p className="error-text" role="alert">
            {err}
          </p>
        ) : null}
      </form>
    </section>
  );
}
