// A pcapng file (draft-ietf-opsawg-pcapng), written as it goes (append-file.ts): a killed run
// leaves every block written so far whole.
import { AppendFile } from "./append-file.ts";

/** Link types (tcpdump.org's LINKTYPE_ values) the simulator captures. */
export const LINKTYPE = { ETHERNET: 1, USER0: 147, USER1: 148, CAN_SOCKETCAN: 227 } as const;

const BLOCK = { SHB: 0x0a0d0d0a, IDB: 0x00000001, EPB: 0x00000006 } as const;
const OPT = { endofopt: 0, comment: 1, shb_userappl: 4, if_name: 2, if_description: 3, if_tsresol: 9, epb_flags: 2 } as const;
/** epb_flags' direction bits: inbound 1, outbound 2 (pcapng 4.3.1). */
export const INBOUND = 1;
export const OUTBOUND = 2;

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
  readonly #file: AppendFile;

  /** Creates (or truncates) the file and writes its header and one interface block per interface, in order: ids 0, 1, ... */
  constructor(
    readonly path: string,
    interfaces: PcapngInterface[],
    application = "xsock sim",
  ) {
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
    this.#file = new AppendFile(path, Buffer.concat(header));
  }

  /** Bytes written (or queued), for tests and figures. */
  get bytes(): number {
    return this.#file.bytes;
  }

  /** Appends an enhanced packet block: `data` (or its parts, one after the other) on interface `id`, with a comment and a direction if given. */
  packet(id: number, data: Uint8Array | Uint8Array[], how: { comment?: string; direction?: number; micros?: number } = {}): void {
    if (this.#file.closed) return;
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
    this.#file.append(b);
  }

  /** Writes what is queued and closes the file. */
  close(): Promise<void> {
    return this.#file.close();
  }
}
