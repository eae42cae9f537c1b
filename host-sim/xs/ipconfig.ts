// `xsock/ipconfig-native` (drivers/ipconfig/esp32/ipconfig.c on the board), on the simulator's
// network interfaces (host-sim/devices/ipconfig.ts).
import { host } from "./bridge";

const DOTTED = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** As esp_netif_str_to_ip4 refuses it on the board. */
function dotted(value: unknown): string {
  if (typeof value !== "string" || !DOTTED.test(value)) throw new RangeError("not a dotted IPv4 address");
  return value;
}

class IpConfigNative {
  readonly #key: string;

  constructor(key: string) {
    if (typeof key !== "string" || !key || key.length > 15) throw new RangeError("an interface key has 1 to 15 characters");
    this.#key = key;
  }

  info(): [string, string, string] | undefined {
    return host<[string, string, string] | null>("ipconfig.info", this.#key) ?? undefined;
  }

  ip6(): [string, string] | undefined {
    return host<[string, string] | null>("ipconfig.ip6", this.#key) ?? undefined;
  }

  useStatic(ip: string, gateway: string, netmask: string): boolean {
    return host<boolean>("ipconfig.useStatic", this.#key, dotted(ip), dotted(gateway), dotted(netmask));
  }

  useDHCP(): boolean {
    return host<boolean>("ipconfig.useDHCP", this.#key);
  }

  serveDHCP(on: boolean, start?: string, end?: string, leaseMinutes?: number): boolean {
    if (start === undefined) return host<boolean>("ipconfig.serveDHCP", this.#key, !!on);
    const minutes = Number(leaseMinutes ?? 0);
    if (!Number.isInteger(minutes) || minutes < 0) throw new RangeError("a lease time is a whole number of minutes");
    return host<boolean>("ipconfig.serveDHCP", this.#key, !!on, dotted(start), dotted(end), minutes);
  }

  dhcpServer(): [boolean, string, string, number] | undefined {
    return host<[boolean, string, string, number] | null>("ipconfig.dhcpServer", this.#key) ?? undefined;
  }

  dns(): string[] | undefined {
    return host<string[] | null>("ipconfig.dns", this.#key) ?? undefined;
  }

  setDNS(servers: string[]): boolean {
    if (servers.length > 3) throw new RangeError("up to 3 DNS servers");
    return host<boolean>("ipconfig.setDNS", this.#key, servers.map(dotted));
  }

  setMac(mac: string): boolean {
    if (typeof mac !== "string" || !/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(mac)) throw new RangeError("a MAC is aa:bb:cc:dd:ee:ff");
    return host<boolean>("ipconfig.setMac", this.#key, mac.toLowerCase());
  }

  setHostname(name: string): boolean {
    if (typeof name !== "string" || !name || name.length > 32) throw new RangeError("a hostname has 1 to 32 characters");
    return host<boolean>("ipconfig.setHostname", this.#key, name);
  }
}

export default IpConfigNative;
