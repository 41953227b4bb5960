import semver from "semver";

const { Range } = semver;
type Comparator = InstanceType<typeof semver.Comparator>;

/** The text of one comparator set (an AND of comparators): `>=1.2.0 <2.0.0-0`; `*` when it holds none. */
const setText = (set: readonly Comparator[]): string =>
  set
    .map((c) => c.value)
    .filter((v) => v !== "")
    .join(" ") || "*";

/** Parses an npm range, or returns undefined when it is not one (strict, not loose). */
export function parseRange(text: string): InstanceType<typeof Range> | undefined {
  try {
    return new Range(text);
  } catch {
    return undefined;
  }
}

export interface Meet {
  /** The comparator sets of the meet, each an AND; the meet is their OR. Empty: the ranges do not meet. */
  sets: string[];
  /** The meet as one range (`sets` joined with ` || `), or null when empty. */
  range: string | null;
}

/**
 * The meet (intersection) of two npm semver ranges, computed on their parsed comparator sets: a range is an OR of
 * comparator sets (split at `||`), so A ∩ B is the OR over every pair (a ∈ A.set, b ∈ B.set) of a ∧ b, kept when the
 * pair is satisfiable. Each pair is a conjunction of intervals, where pairwise intersection decides (semver's
 * Range.intersects on the two one-set ranges). Joining the two range strings with a space instead would read
 * `^1 || ^2` ∧ `^2` as `^1 || (^2 ^2)`: wrong. Order: a-major, b-minor, duplicates dropped.
 */
export function meetRanges(a: InstanceType<typeof Range>, b: InstanceType<typeof Range>): Meet {
  const sets: string[] = [];
  for (const sa of a.set) {
    const ra = new Range(setText(sa));
    for (const sb of b.set) {
      const rb = new Range(setText(sb));
      if (!ra.intersects(rb)) continue;
      const both = new Range(`${setText(sa)} ${setText(sb)}`);
      const text = both.set.map(setText)[0] ?? "*";
      if (semver.minVersion(both) === null) continue;
      if (!sets.includes(text)) sets.push(text);
    }
  }
  return { sets, range: sets.length > 0 ? sets.join(" || ") : null };
}

const memo = new Map<string, Meet | undefined>();

/** meetRanges on range texts; undefined when either does not parse. Memoised: routes share a few ranges. */
export function meet(a: string, b: string): Meet | undefined {
  const key = `${a}\u0000${b}`;
  if (memo.has(key)) return memo.get(key);
  const ra = parseRange(a);
  const rb = parseRange(b);
  const m = ra && rb ? meetRanges(ra, rb) : undefined;
  if (memo.size > 10_000) memo.clear();
  memo.set(key, m);
  return m;
}
