/**
 * The replay guard of capability tokens (spec/fabric/tokens.md, "Replay"): every nonce accepted is remembered until
 * its token expires, then forgotten — an expired token is refused as `expired` before the cache is asked, so nothing
 * is lost by forgetting it.
 *
 * Bounded two ways. Expired entries are evicted on every use (a min-heap by expiry: O(log n) per nonce). And a hard
 * cap: when `capacity` unexpired nonces are held, a new token is refused as `nonce_cache_full` rather than evicting an
 * unexpired nonce — forgetting one would let that token be replayed, turning a load problem into a security hole.
 * The checker's `maxTtlMs` bounds how long any nonce can stay, so the cap is a rate: capacity / maxTtl tokens per ms.
 *
 * Time never runs backwards here: the cache keeps the highest clock reading it has seen and judges expiry by it, so
 * a wall clock stepped back cannot resurrect tokens whose nonces were already evicted.
 */
export class NonceCache {
  readonly capacity: number;
  private readonly expiry = new Map<string, number>();
  /** Min-heap of [expiresAt, nonce]; may hold an entry whose nonce was re-added later (checked on pop). */
  private readonly heap: Array<[number, string]> = [];
  private highWater = Number.NEGATIVE_INFINITY;

  constructor(opts: { capacity?: number } = {}) {
    const capacity = opts.capacity ?? 100_000;
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError(`bad nonce cache capacity ${capacity}`);
    this.capacity = capacity;
  }

  get size(): number {
    return this.expiry.size;
  }

  /** The time the cache judges expiry by: the highest clock reading seen so far. */
  now(clockMs: number): number {
    if (clockMs > this.highWater) this.highWater = clockMs;
    return this.highWater;
  }

  /** Drops every nonce whose token expired at or before `nowMs`. */
  evict(nowMs: number): void {
    const now = this.now(nowMs);
    const heap = this.heap;
    while (heap.length > 0 && heap[0]![0] <= now) {
      const [exp, nonce] = popHeap(heap);
      if (this.expiry.get(nonce) === exp) this.expiry.delete(nonce);
    }
  }

  has(nonce: string): boolean {
    return this.expiry.has(nonce);
  }

  /**
   * Remembers `nonce` until `expiresAt` (ms). "added" when new, "seen" when it is already held (a replay), "full"
   * when the cache holds `capacity` unexpired nonces (nothing is evicted to make room).
   */
  add(nonce: string, expiresAt: number, nowMs: number): "added" | "seen" | "full" {
    this.evict(nowMs);
    if (this.expiry.has(nonce)) return "seen";
    if (this.expiry.size >= this.capacity) return "full";
    this.expiry.set(nonce, expiresAt);
    pushHeap(this.heap, [expiresAt, nonce]);
    return "added";
  }
}

function pushHeap(heap: Array<[number, string]>, item: [number, string]): void {
  heap.push(item);
  let i = heap.length - 1;
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (heap[p]![0] <= heap[i]![0]) break;
    [heap[p], heap[i]] = [heap[i]!, heap[p]!];
    i = p;
  }
}

function popHeap(heap: Array<[number, string]>): [number, string] {
  const top = heap[0]!;
  const last = heap.pop()!;
  if (heap.length > 0) {
    heap[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && heap[l]![0] < heap[m]![0]) m = l;
      if (r < heap.length && heap[r]![0] < heap[m]![0]) m = r;
      if (m === i) break;
      [heap[m], heap[i]] = [heap[i]!, heap[m]!];
      i = m;
    }
  }
  return top;
}
