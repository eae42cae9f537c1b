// Names to addresses: getaddrinfo and gethostbyname, on the platform's DNS (Moddable's Net.resolve).
// Net.resolve is lwIP's dns_gethostbyname, which gives one address: with IPv6 in the build
// (LWIP_DNS_ADDRTYPE_IPV4_IPV6), the IPv4 one, or the IPv6 one for a name that has no IPv4 address.
import Net from "net";
import { familyOf, type Address } from "./address";
import { AF_INET, AF_INET6, AF_UNSPEC, AI_PASSIVE, IPPROTO_TCP, IPPROTO_UDP, SOCK_DGRAM, SOCK_STREAM } from "./constants";
import { shown, SocketError } from "./errors";

/** What /etc/hosts gives on any system. */
const LOCALHOST: Record<number, string> = { [AF_INET]: "127.0.0.1", [AF_INET6]: "::1" };

async function dns(name: string): Promise<string> {
  // From a promise job: the platform's resolver and its error are deep calls, and a caller
  // deep in a console command would overflow the board's 512-slot XS stack.
  await Promise.resolve();
  return new Promise((resolve, reject) => {
    try {
      Net.resolve(name, (_name, address) =>
        address ? resolve(address) : reject(new SocketError("EAI_NONAME", `cannot resolve "${name}"`)),
      );
    } catch (e) {
      reject(new SocketError("EAI_NONAME", `cannot resolve "${name}": ${(e as Error).message}`));
    }
  });
}

/** The DNS's answer for a name, if it is in the family. */
async function dnsIn(name: string, family: number): Promise<string> {
  const address = await dns(name);
  if (familyOf(address) !== family) throw new SocketError("EAI_NONAME", `no ${family === AF_INET6 ? "IPv6" : "IPv4"} address for "${name}"`);
  return address;
}

/** One address for a name in the family (a literal is its own answer). */
export async function resolveHost(name: string, family: number): Promise<string> {
  if (familyOf(name)) return name;
  if (name === "localhost") return LOCALHOST[family] ?? LOCALHOST[AF_INET];
  return dnsIn(name, family === AF_INET6 ? AF_INET6 : AF_INET);
}

/** The one address the DNS gives for a name, of either family: IPv4's, else IPv6's (a literal is its own answer). */
export async function resolveAny(name: string): Promise<string> {
  if (familyOf(name)) return name;
  if (name === "localhost") return LOCALHOST[AF_INET];
  return dns(name);
}

export async function gethostbyname(name: string): Promise<string> {
  return resolveHost(name, AF_INET);
}

export type AddrInfo = [family: number, type: number, proto: number, canonname: string, sockaddr: Address];

/**
 * getaddrinfo(host, port, family, type, proto, flags), as Python returns it: a list of
 * [family, type, proto, canonname, sockaddr]. A null host means loopback, or with AI_PASSIVE
 * every interface.
 */
export async function getaddrinfo(host: string | null, port: number | string | null, family = AF_UNSPEC, type = 0, proto = 0, flags = 0): Promise<AddrInfo[]> {
  const portNumber = port === null ? 0 : typeof port === "number" || typeof port === "string" ? Number(port) : NaN;
  if (!Number.isInteger(portNumber) || portNumber < 0 || portNumber > 65535) throw new SocketError("EAI_NONAME", `bad port ${shown(port)}`);
  const families = family === AF_UNSPEC ? [AF_INET6, AF_INET] : [family];
  const hosts: [number, string][] = [];
  // A name is asked once: its one answer goes under its own family.
  const named = host && !familyOf(host) && host !== "localhost" ? await dns(host) : undefined;
  for (const f of families) {
    if (host === null || host === "") hosts.push([f, flags & AI_PASSIVE ? (f === AF_INET6 ? "::" : "0.0.0.0") : LOCALHOST[f]]);
    else if (named !== undefined) {
      if (familyOf(named) === f) hosts.push([f, named]);
    } else if (familyOf(host)) {
      if (familyOf(host) === f) hosts.push([f, host]);
    } else if (host === "localhost") hosts.push([f, LOCALHOST[f]]);
  }
  if (!hosts.length) throw new SocketError("EAI_NONAME", `no address for "${host}" in family ${family}`);
  const types = type ? [type] : [SOCK_STREAM, SOCK_DGRAM];
  const out: AddrInfo[] = [];
  for (const [f, address] of hosts)
    for (const t of types) out.push([f, t, proto || (t === SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP), "", [address, portNumber]]);
  return out;
}
