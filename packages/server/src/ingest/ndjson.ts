/** One non-blank line of an NDJSON body, with its 1-based line number. */
export interface NdjsonLine {
  line: number;
  bytes: Buffer;
}

/** Splits an NDJSON body on LF (a trailing CR is dropped); blank lines are skipped but still counted. */
export function splitNdjson(body: Buffer): NdjsonLine[] {
  const out: NdjsonLine[] = [];
  let start = 0;
  let line = 1;
  while (start <= body.length) {
    let end = body.indexOf(0x0a, start);
    if (end < 0) end = body.length;
    let stop = end;
    if (stop > start && body[stop - 1] === 0x0d) stop--;
    const bytes = body.subarray(start, stop);
    if (!isBlank(bytes)) out.push({ line, bytes });
    start = end + 1;
    line++;
  }
  return out;
}

function isBlank(b: Buffer): boolean {
  for (let i = 0; i < b.length; i++) {
    const c = b[i];
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d) return false;
  }
  return true;
}
