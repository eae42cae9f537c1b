// The machine's serial ports, and which of them look like an ESP32 board's USB bridge.
import { existsSync, readdirSync, readFileSync, realpathSync } from "node:fs";
import { dirname, join } from "node:path";
import type { SerialPort } from "serialport";

/** serialport's PortInfo: path, manufacturer, serialNumber, pnpId, locationId, vendorId, productId. */
export type PortInfo = Awaited<ReturnType<typeof SerialPort.list>>[number];

/** What lists ports: serialport's binding (or its MockBinding in tests). */
export interface PortLister {
  list(): Promise<PortInfo[]>;
}

export interface SerialPortEntry {
  path: string;
  manufacturer?: string;
  serialNumber?: string;
  /** USB vendor and product ids, 4 lowercase hex digits each. */
  vid?: string;
  pid?: string;
  /** The USB bridge an ESP32 board uses, when this port is one: "CP210x", "CH340", ... */
  bridge?: string;
}

/** USB bridges on ESP32 boards, by vendor id and product id (undefined: any product). */
const BRIDGES: [vid: string, pid: string | undefined, name: string][] = [
  ["10c4", "ea60", "CP210x"],
  ["10c4", "ea70", "CP2105"],
  ["10c4", "ea71", "CP2108"],
  ["1a86", "7523", "CH340"],
  ["1a86", "7522", "CH340K"],
  ["1a86", "55d3", "CH343"],
  ["1a86", "55d4", "CH9102"],
  ["0403", undefined, "FTDI"],
  ["303a", "1001", "ESP32 USB Serial/JTAG"],
  ["303a", undefined, "Espressif native USB"],
];

const hex4 = (id: string | undefined) => (id && /^(0x)?[0-9a-f]{1,4}$/i.test(id) ? id.replace(/^0x/i, "").toLowerCase().padStart(4, "0") : undefined);

export function bridgeOf(vid: string | undefined, pid: string | undefined): string | undefined {
  return BRIDGES.find(([v, p]) => v === vid && (p === undefined || p === pid))?.[2];
}

/** Lists the ports, ESP32-like ones first, each group by path. */
export async function listPorts(lister: PortLister = systemLister()): Promise<SerialPortEntry[]> {
  const entries = (await lister.list()).map((info): SerialPortEntry => {
    const vid = hex4(info.vendorId);
    const pid = hex4(info.productId);
    return {
      path: info.path,
      manufacturer: info.manufacturer || undefined,
      serialNumber: info.serialNumber || undefined,
      vid,
      pid,
      bridge: bridgeOf(vid, pid),
    };
  });
  return entries.sort((a, b) => Number(Boolean(b.bridge)) - Number(Boolean(a.bridge)) || a.path.localeCompare(b.path, undefined, { numeric: true }));
}

/**
 * serialport's own list, except on Linux without udevadm (containers, minimal CI images),
 * where serialport's list crashes: there the ports are read from sysfs, as pyserial does.
 */
export function systemLister(): PortLister {
  if (process.platform === "linux" && !onPath("udevadm")) return sysfsLister();
  // serialport loads on use: `xsock --help` need not pay for it.
  return { list: async () => (await import("serialport")).SerialPort.list() };
}

function onPath(program: string): boolean {
  return (process.env.PATH ?? "").split(":").some((dir) => dir && existsSync(join(dir, program)));
}

/** Linux's USB serial ports (ttyUSB*, ttyACM*) from sysfs, with their USB device's ids. */
export function sysfsLister(root = "/"): PortLister {
  const read = (dir: string, file: string) => {
    try {
      return readFileSync(join(dir, file), "utf8").trim() || undefined;
    } catch {
      return undefined;
    }
  };
  return {
    async list() {
      const classDir = join(root, "sys/class/tty");
      const names = existsSync(classDir) ? readdirSync(classDir).filter((n) => /^tty(USB|ACM)\d+$/.test(n)) : [];
      return names.map((name): PortInfo => {
        // The tty's device is a USB interface; its parent holds idVendor, idProduct, manufacturer.
        let usb: string | undefined;
        try {
          for (let dir = realpathSync(join(classDir, name, "device")); dir.length > 1 && !usb; dir = dirname(dir)) {
            if (existsSync(join(dir, "idVendor"))) usb = dir;
          }
        } catch {
          usb = undefined;
        }
        return {
          path: join(root, "dev", name),
          manufacturer: usb && read(usb, "manufacturer"),
          serialNumber: usb && read(usb, "serial"),
          vendorId: usb && read(usb, "idVendor"),
          productId: usb && read(usb, "idProduct"),
          pnpId: undefined,
          locationId: undefined,
        };
      });
    },
  };
}
