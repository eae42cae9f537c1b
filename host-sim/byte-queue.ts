// Bytes waiting to be taken, in the order they came.
export class ByteQueue {
  private chunks: Buffer[] = [];
  length = 0;

  push(chunk: Buffer): void {
    if (!chunk.length) return;
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  /** Takes up to `max` bytes; null when there are none. */
  take(max: number): Buffer | null {
    if (!this.length) return null;
    const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    const n = Math.min(all.length, max);
    this.chunks = n < all.length ? [all.subarray(n)] : [];
    this.length = all.length - n;
    return all.subarray(0, n);
  }

  clear(): void {
    this.chunks = [];
    this.length = 0;
  }
}
