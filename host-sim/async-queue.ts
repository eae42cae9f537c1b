// Events pushed from callbacks, taken by one `for await` loop.
export class AsyncQueue<T> {
  private items: T[] = [];
  private ended = false;
  private wake?: () => void;

  push(item: T): void {
    this.items.push(item);
    this.wake?.();
  }

  /** No more items: the loop ends once it has taken those already pushed. */
  end(): void {
    this.ended = true;
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    while (!this.ended || this.items.length) {
      if (!this.items.length) await new Promise<void>((r) => (this.wake = r));
      this.wake = undefined;
      while (this.items.length) yield this.items.shift()!;
    }
  }
}
