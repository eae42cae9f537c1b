// The ESP32's GPIO pins for `embedded:io/spi` and `embedded:io/digital`: each SPI bus and input
// pin goes to the part the board file wires there (host-sim/xs/spi.ts, digital.ts). An SPI bus
// with nothing on it reads all ones (MISO pulled up); a pin with nothing on it reads its pull.
import { PlatformError, type Host } from "../host.ts";

/** A part on an SPI bus, selected by its chip-select pin. */
export interface SpiPart {
  /** CS falls. */
  select(): void;
  /** Bytes in on MOSI, bytes out on MISO. */
  transfer(bytes: Uint8Array): Uint8Array;
  /** CS rises. */
  deselect(): void;
}

/** A line a part drives into an input pin (an interrupt output). */
export interface InputLine {
  level(): 0 | 1;
  /** Calls `listener` with each new level; returns what stops it. */
  onChange(listener: (level: 0 | 1) => void): () => void;
}

/** What a board has on its pins. */
export interface Wiring {
  spi: { clock: number; out: number; in: number; select: number; part: SpiPart }[];
  inputs: Map<number, InputLine>;
}

export const NO_WIRING: Wiring = { spi: [], inputs: new Map() };

interface SpiOpen {
  clock: number;
  out?: number;
  in?: number;
  select?: number;
}

const RISING = 1;
const FALLING = 2;
const OUTPUT = 8;
const INPUT_PULL_UP = 1;
const INPUT_PULL_UP_DOWN = 3;

export function gpio(host: Host, wiring: Wiring): { close(): void } {
  /** Pins an open SPI bus or digital pin holds, as Moddable's builtinUsePin keeps them. */
  const used = new Set<number>();
  const claim = (pins: (number | undefined)[]) => {
    const wanted = [...new Set(pins.filter((p): p is number => p !== undefined))];
    const busy = wanted.find((p) => used.has(p));
    if (busy !== undefined) throw new PlatformError(`in use: GPIO ${busy}`);
    for (const p of wanted) used.add(p);
    return wanted;
  };

  const buses = new Map<number, { pins: number[]; part?: SpiPart; selected: boolean }>();
  const bus = (id: number) => {
    const found = buses.get(id);
    if (!found) throw new PlatformError("SPI closed");
    return found;
  };
  host.handle("spi.open", (id: number, options: SpiOpen) => {
    const pins = claim([options.clock, options.out, options.in, options.select]);
    const wired = wiring.spi.find((w) => w.clock === options.clock && w.out === options.out && w.in === options.in && w.select === options.select);
    if (!wired) host.debug(`gpio: nothing is wired to SPI on clock ${options.clock}, select ${options.select ?? "none"}: it reads all ones`);
    buses.set(id, { pins, part: wired?.part, selected: false });
  });
  const exchange = (id: number, bytes: Uint8Array): Uint8Array => {
    const b = bus(id);
    if (!b.part) return new Uint8Array(bytes.length).fill(0xff);
    if (!b.selected) {
      b.selected = true;
      b.part.select();
    }
    return b.part.transfer(bytes);
  };
  host.handle("spi.transfer", (id: number, bytes: Uint8Array) => exchange(id, bytes));
  host.handle("spi.write", (id: number, bytes: Uint8Array) => void exchange(id, bytes));
  const deselect = (id: number) => {
    const b = bus(id);
    if (!b.selected) return;
    b.selected = false;
    b.part?.deselect();
  };
  host.handle("spi.deselect", (id: number) => deselect(id));
  host.handle("spi.close", (id: number) => {
    if (!buses.has(id)) return;
    deselect(id);
    for (const p of bus(id).pins) used.delete(p);
    buses.delete(id);
  });

  const pins = new Map<number, { pin: number; mode: number; value: 0 | 1; stop?: () => void }>();
  const digital = (id: number) => {
    const found = pins.get(id);
    if (!found) throw new PlatformError("digital pin closed");
    return found;
  };
  host.handle("digital.open", (id: number, options: { pin: number; mode: number; edge: number }) => {
    claim([options.pin]);
    const entry: { pin: number; mode: number; value: 0 | 1; stop?: () => void } = { pin: options.pin, mode: options.mode, value: 0 };
    const line = wiring.inputs.get(options.pin);
    if (line && options.edge && options.mode < OUTPUT) {
      // Edges until the firmware takes the event come as one, as Moddable's ISR coalesces them.
      let last = line.level();
      let triggered = false;
      entry.stop = line.onChange((level) => {
        const edge = level < last ? FALLING : level > last ? RISING : 0;
        last = level;
        if (!(edge & options.edge) || triggered) return;
        triggered = true;
        host.post("digital", id, () => {
          triggered = false;
          return 1 << (options.pin & 31);
        });
      });
    }
    pins.set(id, entry);
  });
  host.handle("digital.read", (id: number) => {
    const entry = digital(id);
    if (entry.mode >= OUTPUT) return entry.value;
    const line = wiring.inputs.get(entry.pin);
    if (line) return line.level();
    return entry.mode === INPUT_PULL_UP || entry.mode === INPUT_PULL_UP_DOWN ? 1 : 0;
  });
  host.handle("digital.write", (id: number, value: 0 | 1) => {
    const entry = digital(id);
    if (entry.mode < OUTPUT) throw new PlatformError(`GPIO ${entry.pin} is an input`);
    entry.value = value ? 1 : 0;
  });
  host.handle("digital.close", (id: number) => {
    const entry = pins.get(id);
    if (!entry) return;
    entry.stop?.();
    used.delete(entry.pin);
    pins.delete(id);
  });

  return {
    close() {
      for (const id of [...buses.keys()]) deselect(id);
      for (const entry of pins.values()) entry.stop?.();
      buses.clear();
      pins.clear();
      used.clear();
    },
  };
}
