// A pcapng file (draft-ietf-opsawg-pcapng), written as it goes: each block is queued and the
// queue goes to the file by asynchronous writes, one at a time, at known offsets, so no
// delivery into XS waits on the disk. A killed run leaves every block written so far whole;
// a process that exits (a crash included) writes what is queued first.
import { closeSync, openSync, writev, writeSync } from "node:fs";

/** Link types (tcpdump.org's LINKTYPE_ values) the simulator captures. */
export const LINKTYPE = { ETHERNET: 1, USER0: 147, USER1: 148, CAN_SOCKETCAN: 227 } as const;

const BLOCK = { SHB: 0x0a0d0d0a, IDB: 0x00000001, EPB: 0x00000006 } as const;
const OPT = { endofopt: 0, comment: 1, shb_userappl: 4, if_name: 2, if_description: 3, if_tsresol: 9, epb_flags: 2 } as const;
/** epb_flags' direction bits: inbound 1, outbound 2 (pcapng 4.3.1). */
export const INBOUND = 1;
export const OUTBOUND = 2;

/** Linux's limit on the buffers one writev takes. */
const IOV_MAX = 1024;

const pad4 = (n: number) => (4 - (n % 4)) % 4;

function option(code: number, value: Uint8Array): Buffer {
  const b = Buffer.alloc(4 + value.length + pad4(value.length));
  b.writeUInt16LE(code, 0);
  b.writeUInt16LE(value.length, 2);
  b.set(value, 4);
  return b;
}

const text = (s: string) => Buffer.from(s, "utf8");
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
};

function options(list: Buffer[]): Buffer {
  return list.length ? Buffer.concat([...list, option(OPT.endofopt, new Uint8Array(0))]) : Buffer.alloc(0);
}

/** A block: type, total length, body, total length again. */
function block(type: number, body: Buffer): Buffer {
  const b = Buffer.alloc(12 + body.length);
  b.writeUInt32LE(type, 0);
  b.writeUInt32LE(b.length, 4);
  body.copy(b, 8);
  b.writeUInt32LE(b.length, b.length - 4);
  return b;
}

/** Microseconds since the epoch, finer than Date.now(). */
export const nowMicros = () => Math.round((performance.timeOrigin + performance.now()) * 1000);

export interface PcapngInterface {
  linkType: number;
  name: string;
  description?: string;
}

export class PcapngWriter {
  readonly #fd: number;
  #queue: Buffer[] = [];
  /** The write under way: its blocks and where they go. */
  #inFlight?: { blocks: Buffer[]; at: number };
  #position = 0;
  readonly #onExit = () => this.#flushSync();
  #writing?: Promise<void>;
  #closed = false;
  /** Bytes written (or queued), for tests and figures. */
  bytes = 0;

  /** Creates (or truncates) the file and writes its header and one interface block per interface, in order: ids 0, 1, ... */
  constructor(
    readonly path: string,
    interfaces: PcapngInterface[],
    application = "xsock sim",
  ) {
    this.#fd = openSync(path, "w");
    const shb = Buffer.alloc(16);
    shb.writeUInt32LE(0x1a2b3c4d, 0); // byte-order magic
    shb.writeUInt16LE(1, 4); // version 1.0
    shb.writeUInt16LE(0, 6);
    shb.writeBigInt64LE(-1n, 8); // section length unknown
    const header = [block(BLOCK.SHB, Buffer.concat([shb, options([option(OPT.shb_userappl, text(application))])]))];
    for (const i of interfaces) {
      const idb = Buffer.alloc(8);
      idb.writeUInt16LE(i.linkType, 0);
      idb.writeUInt32LE(0, 4); // no snap length
      const opts = [option(OPT.if_name, text(i.name)), ...(i.description ? [option(OPT.if_description, text(i.description))] : []), option(OPT.if_tsresol, Uint8Array.of(6))];
      header.push(block(BLOCK.IDB, Buffer.concat([idb, options(opts)])));
    }
    // The header goes at once: the file is readable (and empty of packets) from the start.
    const bytes = Buffer.concat(header);
    writeSync(this.#fd, bytes, 0, bytes.length, 0);
    this.#position = bytes.length;
    this.bytes = bytes.length;
    process.on("exit", this.#onExit);
  }

  /** Appends an enhanced packet block: `data` (or its parts, one after the other) on interface `id`, with a comment and a direction if given. */
  packet(id: number, data: Uint8Array | Uint8Array[], how: { comment?: string; direction?: number; micros?: number } = {}): void {
    if (this.#closed) return;
    const parts = Array.isArray(data) ? data : [data];
    const length = parts.reduce((n, p) => n + p.length, 0);
    const micros = how.micros ?? nowMicros();
    const opts = options([...(how.comment ? [option(OPT.comment, text(how.comment))] : []), ...(how.direction ? [option(OPT.epb_flags, u32(how.direction))] : [])]);
    // One buffer a block: type, length, interface, timestamp, lengths, data, options, length.
    const padded = length + pad4(length);
    const b = Buffer.allocUnsafe(32 + padded + opts.length); // every byte is written below
    b.fill(0, 28 + length, 28 + padded);
    b.writeUInt32LE(BLOCK.EPB, 0);
    b.writeUInt32LE(b.length, 4);
    b.writeUInt32LE(id, 8);
    b.writeUInt32LE(Math.floor(micros / 2 ** 32), 12);
    b.writeUInt32LE(micros % 2 ** 32, 16);
    b.writeUInt32LE(length, 20);
    b.writeUInt32LE(length, 24);
    let at = 28;
    for (const part of parts) {
      b.set(part, at);
      at += part.length;
    }
    opts.copy(b, 28 + padded);
    b.writeUInt32LE(b.length, b.length - 4);
    this.#enqueue(b);
  }

  #enqueue(b: Buffer): void {
    this.#queue.push(b);
    this.bytes += b.length;
    this.#writing ??= this.#drain();
  }

  /** Writes what is queued, a batch at a time, until the queue is empty. */
  async #drain(): Promise<void> {
    await Promise.resolve(); // blocks queued in the same turn go in one write
    while (this.#queue.length) {
      const blocks = this.#queue.splice(0, IOV_MAX);
      const at = this.#position;
      this.#position += blocks.reduce((n, b) => n + b.length, 0);
      this.#inFlight = { blocks, at };
      await new Promise<void>((resolve) => writev(this.#fd, blocks, at, () => resolve()));
      this.#inFlight = undefined;
    }
    this.#writing = undefined;
  }

  /** The process is exiting: the write under way (again: same bytes, same place) and the queue go now. */
  #flushSync(): void {
    if (this.#closed) return;
    let at = this.#inFlight?.at ?? this.#position;
    for (const b of [...(this.#inFlight?.blocks ?? []), ...this.#queue]) {
      writeSync(this.#fd, b, 0, b.length, at);
      at += b.length;
    }
  }

  /** Writes what is queued and closes the file. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    process.off("exit", this.#onExit);
    while (this.#writing) await this.#writing;
    closeSync(this.#fd);
  }
}
