// A file written as it goes, for the pcapng capture and the trace: what is appended is queued,
// and the queue goes to the file by asynchronous writes, one at a time, at known offsets, so no
// delivery into XS waits on the disk. A killed run leaves every write done so far whole; a
// process that exits (a crash included) writes what is queued first.
import { closeSync, openSync, writev, writeSync } from "node:fs";

/** Linux's limit on the buffers one writev takes. */
const IOV_MAX = 1024;

export class AppendFile {
  readonly #fd: number;
  #queue: Buffer[] = [];
  /** The write under way: its buffers and where they go. */
  #inFlight?: { buffers: Buffer[]; at: number };
  #position = 0;
  readonly #onExit = () => this.#flushSync();
  #writing?: Promise<void>;
  #closed = false;
  /** Bytes written (or queued), for tests and figures. */
  bytes = 0;

  /** Creates (or truncates) the file and writes `header` at once: the file is readable from the start. */
  constructor(
    readonly path: string,
    header: Buffer,
  ) {
    this.#fd = openSync(path, "w");
    writeSync(this.#fd, header, 0, header.length, 0);
    this.#position = this.bytes = header.length;
    process.on("exit", this.#onExit);
  }

  get closed(): boolean {
    return this.#closed;
  }

  append(b: Buffer): void {
    if (this.#closed) return;
    this.#queue.push(b);
    this.bytes += b.length;
    this.#writing ??= this.#drain();
  }

  /** Writes what is queued, a batch at a time, until the queue is empty. */
  async #drain(): Promise<void> {
    await Promise.resolve(); // buffers queued in the same turn go in one write
    while (this.#queue.length) {
      const buffers = this.#queue.splice(0, IOV_MAX);
      const at = this.#position;
      this.#position += buffers.reduce((n, b) => n + b.length, 0);
      this.#inFlight = { buffers, at };
      await new Promise<void>((resolve) => writev(this.#fd, buffers, at, () => resolve()));
      this.#inFlight = undefined;
    }
    this.#writing = undefined;
  }

  /** The process is exiting: the write under way (again: same bytes, same place) and the queue go now. */
  #flushSync(): void {
    if (this.#closed) return;
    let at = this.#inFlight?.at ?? this.#position;
    for (const b of [...(this.#inFlight?.buffers ?? []), ...this.#queue]) {
      writeSync(this.#fd, b, 0, b.length, at);
      at += b.length;
    }
  }

  /** Writes what is queued, then `last` if given, and closes the file. */
  async close(last?: Buffer): Promise<void> {
    if (this.#closed) return;
    if (last) this.append(last);
    this.#closed = true;
    process.off("exit", this.#onExit);
    while (this.#writing) await this.#writing;
    closeSync(this.#fd);
  }
}
