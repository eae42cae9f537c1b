// Raw IP sockets (SOCK_RAW, e.g. IPPROTO_ICMP for ping) on Moddable's `socket` module, which
// has them on lwIP. A received packet starts with its IPv4 header, as on Linux.
import { Socket as PlatformSocket } from "socket";

export interface RawPort {
  write(address: string, data: ArrayBuffer): void;
  close(): void;
}

type RawCallback = (this: { read(type: typeof ArrayBuffer, count: number): ArrayBuffer }, message: number, value?: number, address?: string) => void;

/** Opens a raw socket for an IP protocol; each packet that arrives goes to onPacket. */
export function openRaw(protocol: number, onPacket: (data: Uint8Array, address: string) => void): RawPort {
  const raw = new PlatformSocket({ kind: "RAW", protocol, port: 0 });
  const callback: RawCallback = function (message, value, address) {
    if (message !== 2 || !value) return; // 2: a packet is here, `value` bytes long
    onPacket(new Uint8Array(this.read(ArrayBuffer, value)), address ?? "");
  };
  (raw as unknown as { callback: RawCallback }).callback = callback;
  return raw as unknown as RawPort;
}
