// A small DNS server for tests, on dns-packet: it answers A and AAAA queries from a table over
// UDP, NXDOMAIN for other names, and records the names it was asked.
import { createSocket } from "node:dgram";
import * as packet from "dns-packet";

export interface DnsResponder {
  /** The names asked so far, in order. */
  readonly asked: string[];
  close(): Promise<void>;
}

/** Serves `table` (name to an IPv4 address, for A, or an IPv6 one, for AAAA) on UDP `host`:`port`. */
export async function dnsResponder(host: string, port: number, table: Record<string, string>): Promise<DnsResponder> {
  const socket = createSocket("udp4");
  const asked: string[] = [];
  socket.on("message", (bytes, peer) => {
    let query: packet.Packet;
    try {
      query = packet.decode(bytes);
    } catch {
      return; // not DNS: no answer
    }
    const question = query.questions?.[0];
    if (!question) return;
    asked.push(question.name);
    const known = table[question.name.toLowerCase()];
    const type = known?.includes(":") ? "AAAA" : "A";
    const address = question.type === type ? known : undefined;
    const asksAddress = question.type === "A" || question.type === "AAAA";
    const reply = packet.encode({
      id: query.id,
      type: "response",
      flags: packet.RECURSION_DESIRED | packet.RECURSION_AVAILABLE | (known || !asksAddress ? 0 : 3), // rcode 3: NXDOMAIN
      questions: [question],
      answers: address ? [{ type, class: "IN", name: question.name, ttl: 60, data: address }] : [],
    });
    socket.send(reply, peer.port, peer.address);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(port, host, () => resolve());
  });
  return { asked, close: () => new Promise((resolve) => socket.close(() => resolve())) };
}
