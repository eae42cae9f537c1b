// A small DNS server for tests: it answers A queries from a table over UDP (RFC 1035's wire
// format), NXDOMAIN for other names, and records the names it was asked.
import { createSocket, type Socket } from "node:dgram";

export interface DnsResponder {
  /** The names asked so far, in order. */
  readonly asked: string[];
  close(): Promise<void>;
}

/** The question's name and where the question ends (after QTYPE and QCLASS). */
function readQuestion(query: Buffer): { name: string; type: number; end: number } | undefined {
  const labels: string[] = [];
  let i = 12;
  while (i < query.length && query[i] !== 0) {
    const length = query[i];
    if (length > 63 || i + 1 + length > query.length) return undefined;
    labels.push(query.subarray(i + 1, i + 1 + length).toString("latin1"));
    i += 1 + length;
  }
  if (i + 5 > query.length) return undefined;
  return { name: labels.join("."), type: query.readUInt16BE(i + 1), end: i + 5 };
}

function answer(query: Buffer, table: Record<string, string>): Buffer | undefined {
  if (query.length < 12 || query.readUInt16BE(4) !== 1) return undefined;
  const question = readQuestion(query);
  if (!question) return undefined;
  const address = question.type === 1 ? table[question.name.toLowerCase()] : undefined;
  const header = Buffer.alloc(12);
  header.writeUInt16BE(query.readUInt16BE(0), 0); // the query's id
  header.writeUInt16BE(0x8180 | (address || question.type !== 1 ? 0 : 3), 2); // a response, RD, RA; NXDOMAIN without an answer
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(address ? 1 : 0, 6);
  const parts = [header, query.subarray(12, question.end)];
  if (address) {
    const record = Buffer.alloc(16);
    record.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question's
    record.writeUInt16BE(1, 2); // A
    record.writeUInt16BE(1, 4); // IN
    record.writeUInt32BE(60, 6); // TTL
    record.writeUInt16BE(4, 10);
    address.split(".").forEach((b, i) => record.writeUInt8(Number(b), 12 + i));
    parts.push(record);
  }
  return Buffer.concat(parts);
}

/** Serves `table` (name to IPv4 address) on UDP `host`:`port`. */
export async function dnsResponder(host: string, port: number, table: Record<string, string>): Promise<DnsResponder> {
  const socket: Socket = createSocket("udp4");
  const asked: string[] = [];
  socket.on("message", (query, peer) => {
    const name = readQuestion(query)?.name;
    if (name !== undefined) asked.push(name);
    const reply = answer(query, table);
    if (reply) socket.send(reply, peer.port, peer.address);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(port, host, () => resolve());
  });
  return { asked, close: () => new Promise((resolve) => socket.close(() => resolve())) };
}
