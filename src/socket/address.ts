// Address forms: "192.168.1.10", [192,168,1,10], ["192.168.1.10", 8080], [192,168,1,10,8080],
// ["::1", 8080] and a bare port. Pure logic.
import { AF_INET, AF_INET6 } from "./constants";
import { shown, SocketError } from "./errors";

export type Address = [host: string, port: number];
export type AddressLike = string | number | readonly (string | number)[];

/** [a, b, c, d] for a dotted-quad IPv4 address; null when it is not one. */
export function parseIPv4(text: string): number[] | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  const bytes = parts.map((p) => (/^(0|[1-9]\d{0,2})$/.test(p) ? Number(p) : -1));
  return bytes.every((b) => b >= 0 && b <= 255) ? bytes : null;
}

/** The eight 16-bit groups of an IPv6 address (with `::` and a dotted tail); null when it is not one. */
export function parseIPv6(text: string): number[] | null {
  const scope = text.indexOf("%");
  const bare = scope < 0 ? text : text.slice(0, scope);
  const halves = bare.split("::");
  if (halves.length > 2) return null;
  const groups = (half: string): number[] | null => {
    if (half === "") return [];
    const out: number[] = [];
    const parts = half.split(":");
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i];
      if (i === parts.length - 1 && p.includes(".")) {
        const v4 = parseIPv4(p);
        if (!v4) return null;
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(p)) out.push(Number.parseInt(p, 16));
      else return null;
    }
    return out;
  };
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  if (!head || !tail) return null;
  if (halves.length === 1) return head.length === 8 ? head : null;
  const missing = 8 - head.length - tail.length;
  return missing >= 1 ? [...head, ...new Array<number>(missing).fill(0), ...tail] : null;
}

/** The family of an address literal, or 0 for a name. */
export function familyOf(host: string): number {
  if (parseIPv4(host)) return AF_INET;
  if (parseIPv6(host)) return AF_INET6;
  return 0;
}

/** Python's ip_to_tuple: "x.y.z.w" to [x, y, z, w]. */
export function ip_to_tuple(ip: string): number[] {
  const bytes = parseIPv4(ip);
  if (!bytes) throw new SocketError("EINVAL", `"${ip}" is not an IPv4 address`);
  return bytes;
}

/** inet_aton: "x.y.z.w" to its 4 bytes. */
export function inet_aton(ip: string): Uint8Array {
  return Uint8Array.from(ip_to_tuple(ip));
}

/** inet_ntoa: 4 bytes to "x.y.z.w". */
export function inet_ntoa(bytes: ArrayLike<number>): string {
  if (bytes.length !== 4) throw new SocketError("EINVAL", "an IPv4 address has 4 bytes");
  return Array.from(bytes, (b) => String(b & 0xff)).join(".");
}

function checkPort(port: unknown): number {
  if (typeof port !== "number" || !Number.isInteger(port) || port < 0 || port > 65535)
    throw new SocketError("EINVAL", `bad port ${shown(port)}`);
  return port;
}

/**
 * Reads any address form as [host, port]. A bare port means all interfaces; a host with no
 * port gets port 0. Hosts may be names, resolved later by connect.
 */
export function toAddress(address: AddressLike, family: number): Address {
  const any = family === AF_INET6 ? "::" : "0.0.0.0";
  if (typeof address === "number") return [any, checkPort(address)];
  if (typeof address === "string") return [address === "" ? any : address, 0];
  if (!Array.isArray(address)) throw new SocketError("EINVAL", "bad address");
  const [first] = address;
  if (typeof first === "string") {
    // ["host", port] or IPv6's ["host", port, flowinfo, scope_id]
    if (address.length < 1 || address.length > 4) throw new SocketError("EINVAL", "bad address tuple");
    return [first === "" ? any : first, address.length > 1 ? checkPort(address[1]) : 0];
  }
  if ((address.length === 4 || address.length === 5) && address.every((n) => typeof n === "number")) {
    const bytes = address.slice(0, 4) as number[];
    if (!bytes.every((b) => Number.isInteger(b) && b >= 0 && b <= 255)) throw new SocketError("EINVAL", "bad IPv4 tuple");
    return [bytes.join("."), address.length === 5 ? checkPort(address[4]) : 0];
  }
  throw new SocketError("EINVAL", "bad address: use \"a.b.c.d\", [a,b,c,d], [\"host\", port], [a,b,c,d,port] or a port");
}
