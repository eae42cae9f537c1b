// The IPv4 addresses this host has, where a simulated board's sockets can bind.
import { networkInterfaces } from "node:os";

/** Its interfaces' IPv4 addresses, loopback's included. */
export function hostAddresses(): string[] {
  return Object.values(networkInterfaces()).flatMap((list) => (list ?? []).filter((a) => a.family === "IPv4").map((a) => a.address));
}

/** Whether the host has the address: all of loopback's 127/8 binds on Linux, or one of its interfaces'. */
export const hostHas = (ip: string): boolean => ip.startsWith("127.") || hostAddresses().includes(ip);
