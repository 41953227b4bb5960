/**
 * A value as a validation message shows it: strings quoted and cut to `max` characters (never between the halves of
 * a surrogate pair), containers named, not printed. A message never grows with its input: a 2 MB string in a log
 * must not become a 2 MB answer (the amplification the hostile-input suite guards against).
 */
export function describeValue(value: unknown, max = 60): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") {
    if (value.length <= max) return JSON.stringify(value);
    let cut = max - 3;
    const last = value.charCodeAt(cut - 1);
    if (last >= 0xd800 && last <= 0xdbff) cut--;
    return JSON.stringify(`${value.slice(0, cut)}...`);
  }
  if (typeof value === "object") return "an object";
  return String(value);
}
