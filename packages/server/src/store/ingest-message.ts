import type { IngestItem } from "./types.js";

/**
 * An ingest group as it crosses to the SQLite worker (sqlite-threaded.ts → sqlite-worker.ts): the items but their
 * documents as one JSON text (they are plain JSON data), the documents back to back in one buffer that is
 * transferred, not copied. A structured clone of the same items costs about twice as much (its per-object
 * bookkeeping) and copies every document twice — and with it the whole buffer a document is a view of (an
 * NDJSON body holds many lines).
 */
export interface PackedItems {
  items: string;
  documents: ArrayBuffer;
  /** Byte length of each item's document, in item order. */
  lengths: number[];
}

export function packItems(items: IngestItem[]): PackedItems {
  const documents = Buffer.concat(items.map((it) => it.document));
  return {
    items: JSON.stringify(items.map(({ document: _bytes, ...rest }) => rest)),
    // Buffer.concat of 4 KiB or more has an ArrayBuffer of its own; a smaller one may share the pool's.
    documents: documents.byteLength === documents.buffer.byteLength ? documents.buffer : copyOut(documents),
    lengths: items.map((it) => it.document.length),
  };
}

export function unpackItems(p: PackedItems): IngestItem[] {
  const items = JSON.parse(p.items) as Array<Omit<IngestItem, "document">>;
  let at = 0;
  return items.map((it, i) => {
    const length = p.lengths[i]!; // one length per item
    const document = Buffer.from(p.documents, at, length);
    at += length;
    return { ...it, document };
  });
}

const copyOut = (b: Buffer) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
