/** Open SSE streams, so shutdown can end them (they would otherwise hold `close()` open forever). */
export class StreamRegistry {
  private readonly open = new Set<() => void>();

  add(stop: () => void): () => void {
    this.open.add(stop);
    return () => this.open.delete(stop);
  }

  get size(): number {
    return this.open.size;
  }

  stopAll(): void {
    for (const stop of [...this.open]) stop();
    this.open.clear();
  }
}
