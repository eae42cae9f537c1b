// Bytes waiting to be taken, in the order they came.
export class ByteQueue {
  private chunks: Buffer[] = [];
  length = 0;

  push(chunk: Buffer): void {
    if (!chunk.length) return;
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  /**
   * Takes up to `max` bytes; null when there are none. Joins only the chunks it takes: a take
   * of 8 KiB from a queue of megabytes copies 8 KiB.
   */
  take(max: number): Buffer | null {
    if (!this.length) return null;
    const chunks = this.chunks;
    const first = chunks[0];
    if (first.length >= max || chunks.length === 1) {
      const n = Math.min(first.length, max);
      if (n === first.length) chunks.shift();
      else chunks[0] = first.subarray(n);
      this.length -= n;
      return n === first.length ? first : first.subarray(0, n);
    }
    let count = 0;
    let taken = 0;
    while (count < chunks.length && taken + chunks[count].length <= max) taken += chunks[count++].length;
    const parts = chunks.splice(0, count);
    if (taken < max && chunks.length) {
      const rest = max - taken;
      parts.push(chunks[0].subarray(0, rest));
      chunks[0] = chunks[0].subarray(rest);
      taken = max;
    }
    this.length -= taken;
    return Buffer.concat(parts, taken);
  }

  clear(): void {
    this.chunks = [];
    this.length = 0;
  }
}
