// The MCP2515 driver (drivers/can/mcp2515) under Node, on the register-level model of the chip
// (host-sim/devices/mcp2515.ts) over a simulated SPI bus and INT line, on a CanBus.
import assert from "node:assert/strict";
import fc from "fast-check";
import { CanBus, type BusFrame, type BusNode } from "../../host-sim/devices/can-bus.ts";
import { Mcp2515 as Chip } from "../../host-sim/devices/mcp2515.ts";
import type { CanFrame } from "../../src/net/can-frame.ts";
import type { CanDriver, CanDriverOptions, CanMode, CanState, HardwareFilter } from "xsock/can-driver";
import { busFrame } from "../helpers/can.ts";
import { importFirmware } from "../helpers/firmware-module.ts";
import { runs } from "../helpers/fuzz.ts";
import { ManualClock } from "../helpers/manual-clock.ts";

// The driver and the filter rules come bundled (they import other firmware modules by
// specifier, which the host's type check does not resolve); their contract's types do not.
/** The MCP2515 driver: the CAN driver contract, and its own counts and interrupt entry. */
interface Driver extends CanDriver {
  overflows: number;
  busErrors: number;
  dropped: number;
  interrupt(): void;
}
interface DriverModule {
  Mcp2515: new (
    spi: { transfer(b: Uint8Array): void; write(b: Uint8Array): void; flush(deselect?: boolean): void },
    interrupt: { read(): number },
    options: { oscillator: number; defer(callback: () => void): void },
  ) => Driver;
  CAN_BITRATES: readonly number[];
  bitTiming(oscillator: number, bitrate: number): object | undefined;
  bitratesFor(oscillator: number): number[];
}
const { Mcp2515, CAN_BITRATES, bitTiming, bitratesFor, FilterSet } = await importFirmware<
  DriverModule & { FilterSet: new (filters: HardwareFilter[]) => { passes(frame: CanFrame): boolean } }
>(`export { Mcp2515, CAN_BITRATES, bitTiming, bitratesFor } from "xsock/can/mcp2515-driver"; export { FilterSet } from "xsock/can-filter";`);
const { CAN_EFF_FLAG, CAN_ERR_CRTL, CAN_ERR_CRTL_RX_OVERFLOW, CAN_ERR_FLAG, CAN_RTR_FLAG } = await import("../../src/net/can-frame.ts");

/** SPI at 10 MHz: 0.8 us a byte, and 2 us for the CS edges and the MCU between instructions. */
const spiMs = (bytes: number) => (bytes * 8) / 10_000 + 0.002;

interface RigOptions {
  oscillator?: number;
  bitrate?: number;
  mode?: CanMode;
  filter?: HardwareFilter;
  /** Another node on the bus, which acknowledges frames. */
  peer?: boolean;
}

/** The driver on a model MCP2515, on a bus with (by default) a second node. */
function rig(options: RigOptions = {}) {
  const oscillator = options.oscillator ?? 8e6;
  const clock = new ManualClock();
  const bus = new CanBus();
  const chip = new Chip({ oscillator, clock });
  chip.attach(bus);
  const heard: BusFrame[] = [];
  const peer: BusNode = { receive: (f) => void heard.push(f) };
  if (options.peer !== false) bus.attach(peer);
  /** Called while CS is still low after an instruction's bytes, and after CS rises. */
  const hooks: { selected?: (instruction: number) => void; deselected?: (instruction: number) => void } = {};
  let instruction = 0;
  const spi = {
    transfer(buffer: Uint8Array) {
      instruction = buffer[0];
      buffer.set(chip.transfer(buffer));
      clock.advance(spiMs(buffer.length));
      hooks.selected?.(instruction);
    },
    write(buffer: Uint8Array) {
      instruction = buffer[0];
      chip.transfer(buffer);
      clock.advance(spiMs(buffer.length));
      hooks.selected?.(instruction);
    },
    flush(deselect?: boolean) {
      if (!deselect) return;
      chip.deselect();
      hooks.deselected?.(instruction);
    },
  };
  // The INT line, as Moddable's Digital with a falling edge: the callback comes on a later turn.
  let pending = 0;
  const later = (callback: () => void) => {
    pending++;
    setImmediate(() => {
      pending--;
      callback();
    });
  };
  const driver = new Mcp2515(spi, { read: () => chip.int }, { oscillator, defer: later });
  chip.onInt((level) => {
    if (level === 0) later(() => driver.interrupt());
  });
  const received: CanFrame[] = [];
  const states: [CanState, number, number][] = [];
  let writable = 0;
  const start = (more: Partial<CanDriverOptions> = {}) =>
    driver.start({
      bitrate: options.bitrate ?? 500000,
      mode: options.mode ?? "normal",
      filter: options.filter,
      onReceive: (f) => void received.push(f),
      onState: (state, counters) => void states.push([state, counters.tx, counters.rx]),
      onWritable: () => void writable++,
      ...more,
    });
  start();
  /** Lets the INT line's callbacks run until the driver has nothing left to do. */
  const settle = async () => {
    for (let i = 0; i < 1000 && pending > 0; i++) await new Promise((resolve) => setImmediate(resolve));
  };
  /** Moves time on by `ms`, then lets the driver serve the interrupts. */
  const after = async (ms: number, step = ms) => {
    for (let t = 0; t < ms; t += step) {
      clock.advance(Math.min(step, ms - t));
      await settle();
    }
  };
  /** Another node sends a frame, and the bus carries it (0.3 ms: a frame's time at 500 kbit/s). */
  const send = (f: BusFrame) => {
    bus.send(f, peer);
    clock.advance(0.3);
  };
  return { clock, bus, chip, driver, heard, peer, received, states, writable: () => writable, start, settle, after, send, hooks };
}

const frame = (can_id: number, data: number[] = [], len = data.length): CanFrame => ({ can_id: can_id >>> 0, len, data: Uint8Array.from(data) });

describe("MCP2515 driver: reset and bit timing", () => {
  it("resets the controller and leaves configuration mode for the mode asked", () => {
    for (const [mode, opmod] of [
      ["normal", "normal"],
      ["no-ack", "normal"],
      ["listen-only", "listen-only"],
    ] as const) {
      const { chip, driver } = rig({ mode });
      assert.equal(chip.modeName, opmod, mode);
      assert.equal(chip.peek(0x0f) & 0x08, mode === "no-ack" ? 0x08 : 0, `${mode}: one-shot (OSM) for no-ack only`);
      assert.equal(driver.state, "error-active");
      assert.equal(chip.peek(0x2b), 0xbf, "CANINTE: MERRE, ERRIE, TXnIE, RXnIE");
    }
  });

  it("says so when no MCP2515 answers (an SPI bus that reads all ones)", () => {
    const absent = new Mcp2515({ transfer: (b) => void b.fill(0xff), write() {}, flush() {} }, { read: () => 1 }, { oscillator: 8e6, defer: setImmediate });
    assert.throws(
      () => absent.start({ bitrate: 500000, mode: "normal", onReceive() {}, onState() {}, onWritable() {} }),
      /no MCP2515 answers on SPI: after RESET, CANSTAT reads 0xff and CANCTRL 0xff/,
    );
  });

  it("reaches 25 to 500 kbit/s on an 8 MHz crystal, 25 kbit/s to 1 Mbit/s on 16 MHz, all but 800 kbit/s on 20 MHz", () => {
    assert.deepEqual(bitratesFor(8e6), [25000, 50000, 100000, 125000, 250000, 500000]);
    assert.deepEqual(bitratesFor(16e6), CAN_BITRATES);
    assert.deepEqual(bitratesFor(20e6), [25000, 50000, 100000, 125000, 250000, 500000, 1000000]);
    assert.deepEqual(rig({ oscillator: 8e6 }).driver.bitrates, [25000, 50000, 100000, 125000, 250000, 500000]);
  });

  it("programs CNF1-3 so that the chip runs at each bitrate, within the datasheet's rules", () => {
    const table: string[] = [];
    for (const oscillator of [8e6, 16e6, 20e6]) {
      const { chip, start } = rig({ oscillator });
      for (const bitrate of CAN_BITRATES) {
        const timing = bitTiming(oscillator, bitrate);
        if (!timing) {
          assert.throws(() => start({ bitrate }), new RegExp(`on a ${oscillator / 1e6} MHz crystal runs at .* not ${bitrate}`));
          continue;
        }
        start({ bitrate });
        const decoded = chip.timing;
        assert.equal(decoded.bitrate, bitrate, `${oscillator} Hz, ${bitrate} bit/s`);
        assert.deepEqual(decoded.problems, [], `${oscillator} Hz, ${bitrate} bit/s`);
        assert.ok(decoded.samplePoint >= 0.75 && decoded.samplePoint <= 0.875, `sample point ${decoded.samplePoint}`);
        table.push(`${oscillator / 1e6} MHz ${bitrate}: ${decoded.quanta} TQ, sample ${(decoded.samplePoint * 100).toFixed(1)}%`);
      }
    }
    assert.equal(table.length, 6 + 8 + 7);
  });
});

describe("MCP2515 driver: transmission", () => {
  it("sends standard, extended and remote frames onto the bus", async () => {
    const { driver, heard, after } = rig();
    await after(1);
    assert.ok(driver.write(frame(0x123, [1, 2, 3])));
    assert.ok(driver.write(frame(CAN_EFF_FLAG | 0x1abcdef5, [0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3])));
    assert.ok(driver.write({ can_id: (CAN_RTR_FLAG | CAN_EFF_FLAG | 0x42) >>> 0, len: 4, data: new Uint8Array(0) }));
    await after(5);
    assert.deepEqual(
      heard.map((f) => [f.arbitration_id, f.is_extended_id, f.is_remote_frame, f.dlc, [...f.data]]),
      [
        [0x123, false, false, 3, [1, 2, 3]],
        [0x1abcdef5, true, false, 8, [0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3]],
        [0x42, true, true, 4, []],
      ],
    );
    assert.deepEqual(driver.counters, { tx: 0, rx: 0 });
  });

  it("fills all three transmit buffers, then says no until one frees (onWritable)", async () => {
    const { driver, chip, writable, after } = rig();
    await after(1);
    for (let i = 0; i < 3; i++) assert.ok(driver.write(frame(0x100 + i, [i])));
    assert.deepEqual([0x30, 0x40, 0x50].map((a) => chip.peek(a) & 0x0b), [0x0b, 0x0a, 0x09], "TXREQ, with TXP 3, 2, 1");
    assert.equal(driver.write(frame(0x200)), false);
    assert.equal(writable(), 0);
    await after(0.2); // the first frame (55 bits at 2 us) leaves
    assert.equal(writable(), 1);
    assert.ok(driver.write(frame(0x200)));
  });

  it("keeps the order frames were written in, through the three buffers", async () => {
    const { driver, heard, after, start } = rig();
    const queue = Array.from({ length: 30 }, (_, i) => frame(0x700 - i * 7, [i]));
    const pump = () => {
      while (queue.length && driver.write(queue[0])) queue.shift();
    };
    start({ onWritable: pump });
    await after(1);
    pump();
    await after(20, 0.05);
    assert.equal(queue.length, 0);
    assert.deepEqual(
      heard.map((f) => f.data[0]),
      Array.from({ length: 30 }, (_, i) => i),
    );
  });

  it("no-ack mode sends each frame once with nobody to acknowledge it (one-shot), and frees the buffer", async () => {
    const { driver, chip, after, states, bus } = rig({ mode: "no-ack", peer: false });
    const listener: BusFrame[] = [];
    await after(1);
    for (let i = 0; i < 20; i++) {
      assert.ok(driver.write(frame(0x10 + i, [i])), `frame ${i}`);
      await after(0.5);
    }
    assert.equal(chip.counters.tec, 128, "16 unacknowledged frames: error-passive, and there it stays");
    assert.deepEqual(states.at(-1), ["error-passive", 128, 0]);
    bus.attach({ receive: (f) => void listener.push(f) });
    assert.ok(driver.write(frame(0x99, [9])));
    await after(0.5);
    assert.deepEqual(
      listener.map((f) => f.arbitration_id),
      [0x99],
      "acknowledged at last, and sent once",
    );
  });

  it("listen-only mode sends nothing", () => {
    const { driver } = rig({ mode: "listen-only" });
    assert.equal(driver.write(frame(0x1, [1])), false);
  });

  it("refuses CAN FD frames", () => {
    const { driver } = rig();
    assert.throws(() => driver.write({ ...frame(0x1, [1]), fd: true }), /does not carry CAN FD/);
  });
});

describe("MCP2515 driver: reception", () => {
  it("receives standard, extended and remote frames", async () => {
    const { send, received, settle } = rig();
    send(busFrame(0x7ff, [1, 2]));
    send(busFrame(0x1fffffff, [3, 4, 5, 6, 7, 8, 9, 10], { is_extended_id: true }));
    await settle();
    send(busFrame(0x55, [], { is_remote_frame: true, dlc: 3 }));
    send(busFrame(0x12345, [], { is_remote_frame: true, is_extended_id: true, dlc: 0 }));
    await settle();
    assert.deepEqual(
      received.map((f) => [f.can_id, f.len, [...f.data]]),
      [
        [0x7ff, 2, [1, 2]],
        [(CAN_EFF_FLAG | 0x1fffffff) >>> 0, 8, [3, 4, 5, 6, 7, 8, 9, 10]],
        [(CAN_RTR_FLAG | 0x55) >>> 0, 3, []],
        [(CAN_EFF_FLAG | CAN_RTR_FLAG | 0x12345) >>> 0, 0, []],
      ],
    );
  });

  it("holds INT low until it has served the controller", async () => {
    const { chip, send, settle } = rig();
    assert.equal(chip.int, 1);
    send(busFrame(0x1, [1]));
    assert.equal(chip.int, 0);
    await settle();
    assert.equal(chip.int, 1);
  });

  it("takes a second frame that arrived before it was served from RXB1 (rollover), in order", async () => {
    const { chip, send, settle, received } = rig();
    send(busFrame(0x1, [1]));
    send(busFrame(0x2, [2]));
    assert.equal(chip.peek(0x2c) & 3, 3, "RXB0 and RXB1 full");
    await settle();
    assert.deepEqual(
      received.map((f) => f.can_id),
      [0x1, 0x2],
    );
  });

  it("takes a frame that rolls into RXB1 while RXB0 is read before a newer one in RXB0", async () => {
    const { send, settle, received, hooks } = rig();
    let step = 0;
    hooks.selected = (instruction) => {
      if (instruction === 0x90 && step === 0) {
        step = 1;
        send(busFrame(0x2, [2])); // RXB0 is still full until CS rises: this one rolls over
      }
    };
    hooks.deselected = (instruction) => {
      if (instruction === 0x90 && step === 1) {
        step = 2;
        send(busFrame(0x3, [3])); // RXB0 is free again
      }
    };
    send(busFrame(0x1, [1]));
    await settle();
    assert.equal(step, 2);
    assert.deepEqual(
      received.map((f) => f.can_id),
      [0x1, 0x2, 0x3],
    );
  });

  it("counts a frame lost when both buffers were full, and reports it as Linux does (CAN_ERR_CRTL_RX_OVERFLOW)", async () => {
    const { driver, send, settle, received } = rig();
    for (let i = 1; i <= 3; i++) send(busFrame(i, [i]));
    await settle();
    assert.equal(driver.overflows, 1);
    assert.deepEqual(
      received.map((f) => f.can_id),
      [0x1, 0x2, (CAN_ERR_FLAG | CAN_ERR_CRTL) >>> 0],
    );
    assert.equal(received[2].data[1], CAN_ERR_CRTL_RX_OVERFLOW);
    send(busFrame(4, [4]));
    await settle();
    assert.equal(received.at(-1)!.can_id, 4, "and carries on");
  });

  it("sets the masks and filters from a standard, an extended, and an either-format filter", async () => {
    const cases: [HardwareFilter, BusFrame, boolean][] = [
      [{ can_id: 0x123, can_mask: CAN_EFF_FLAG | 0x7ff }, busFrame(0x123), true],
      [{ can_id: 0x123, can_mask: CAN_EFF_FLAG | 0x7ff }, busFrame(0x124), false],
      [{ can_id: 0x123, can_mask: CAN_EFF_FLAG | 0x7ff }, busFrame(0x123, [], { is_extended_id: true }), false],
      [{ can_id: CAN_EFF_FLAG | 0x1234567, can_mask: CAN_EFF_FLAG | 0x1fffffff }, busFrame(0x1234567, [], { is_extended_id: true }), true],
      [{ can_id: CAN_EFF_FLAG | 0x1234567, can_mask: CAN_EFF_FLAG | 0x1fffffff }, busFrame(0x1234566, [], { is_extended_id: true }), false],
      [{ can_id: CAN_EFF_FLAG | 0x1234567, can_mask: CAN_EFF_FLAG | 0x1fffffff }, busFrame(0x0034567, [], { is_extended_id: true }), false],
      [{ can_id: CAN_EFF_FLAG | 0x1234567, can_mask: CAN_EFF_FLAG | 0x1fffffff }, busFrame(0x567), false],
      [{ can_id: CAN_EFF_FLAG | 0x1234500, can_mask: CAN_EFF_FLAG | 0x1fffff00 }, busFrame(0x12345ab, [], { is_extended_id: true }), true],
      // Without CAN_EFF_FLAG in the mask, Linux matches the low bits of either format.
      [{ can_id: 0x123, can_mask: 0x7ff }, busFrame(0x123), true],
      [{ can_id: 0x123, can_mask: 0x7ff }, busFrame(0x10000123, [], { is_extended_id: true }), true],
      [{ can_id: 0x123, can_mask: 0x7ff }, busFrame(0x10000124, [], { is_extended_id: true }), false],
      [{ can_id: 0x123, can_mask: 0x7ff }, busFrame(0x124, [9, 9]), false],
    ];
    for (const [filter, f, passes] of cases) {
      const { send, settle, received } = rig({ filter });
      send(f);
      await settle();
      assert.equal(received.length, passes ? 1 : 0, `${JSON.stringify(filter)}: ${f.arbitration_id.toString(16)}`);
    }
  });

  it("never drops a frame that Linux's filter rules pass (fuzz)", async () => {
    const { start, send, settle, received } = rig();
    const id = fc.oneof(fc.integer({ min: 0, max: 0x7ff }), fc.integer({ min: 0, max: 0x1fffffff }).map((i) => (CAN_EFF_FLAG | i) >>> 0));
    const bits = fc.oneof(fc.constantFrom(0, 0x7ff, CAN_EFF_FLAG | 0x7ff, CAN_EFF_FLAG | 0x1fffffff, 0x1fffffff), fc.integer({ min: 0, max: 0xffffffff }));
    await fc.assert(
      fc.asyncProperty(id, bits, id, fc.boolean(), async (filterId, mask, frameId, rtr) => {
        const filter = { can_id: filterId & ~CAN_RTR_FLAG, can_mask: mask & ~0x20000000 };
        start({ filter });
        received.length = 0;
        const extended = (frameId & CAN_EFF_FLAG) !== 0;
        const f = busFrame(frameId & 0x1fffffff, rtr ? [] : [1], { is_extended_id: extended, is_remote_frame: rtr });
        send(f);
        await settle();
        const linux = new FilterSet([filter]).passes({ can_id: (frameId | (rtr ? CAN_RTR_FLAG : 0)) >>> 0, len: rtr ? 0 : 1, data: Uint8Array.of(1) });
        if (linux) assert.equal(received.length, 1, `filter ${JSON.stringify(filter)} frame ${frameId.toString(16)}`);
      }),
      { numRuns: runs(300) },
    );
  });
});

describe("MCP2515 driver: error states", () => {
  it("reports error-warning at TEC 96 and error-passive at 128 when nothing acknowledges", async () => {
    const { driver, states, after } = rig({ peer: false });
    await after(1);
    driver.write(frame(0x1, [1]));
    await after(5, 0.02);
    assert.deepEqual(
      states.map(([state]) => state),
      ["error-warning", "error-passive"],
    );
    assert.ok(states[0][1] >= 96 && states[0][1] < 128, `TEC ${states[0][1]} at warning`);
    assert.deepEqual(states[1].slice(1), [128, 0]);
    assert.ok(driver.busErrors >= 1);
  });

  it("goes bus-off past TEC 255, holds the controller off the bus, and recovers when asked", async () => {
    const { driver, chip, states, after, heard, writable } = rig();
    await after(1);
    chip.spoilTransmissions(32);
    for (let i = 0; i < 3; i++) driver.write(frame(0x10 + i, [i]));
    assert.equal(driver.write(frame(0x20)), false);
    await after(10, 0.02);
    assert.equal(driver.state, "bus-off");
    assert.deepEqual(states.at(-1), ["bus-off", 255, 0]);
    assert.equal(chip.modeName, "configuration", "held off the bus: no recovery of its own");
    assert.equal(driver.dropped, 3);
    await after(10);
    assert.equal(driver.state, "bus-off");
    assert.equal(heard.length, 0);
    driver.recover();
    assert.equal(driver.state, "error-active");
    assert.deepEqual(states.at(-1), ["error-active", 0, 0]);
    assert.equal(chip.modeName, "normal");
    assert.equal(writable(), 1, "room to write again");
    assert.ok(driver.write(frame(0x30, [3])));
    await after(1);
    assert.deepEqual(
      heard.map((f) => f.arbitration_id),
      [0x30],
    );
  });

  it("reports a bus fault that forces bus-off; back on, it cannot send before the fault is over", async () => {
    const { driver, chip, settle, after, heard } = rig();
    await after(1);
    chip.busFault(50);
    await settle();
    assert.equal(driver.state, "bus-off");
    driver.recover();
    assert.equal(driver.state, "error-active");
    assert.ok(driver.write(frame(0x5, [5])));
    await after(40, 1);
    assert.equal(heard.length, 0, "the bus is still held dominant: no 11 recessive bits to join it");
    await after(20, 1);
    assert.deepEqual(
      heard.map((f) => f.arbitration_id),
      [0x5],
    );
  });

  it("hears nothing at another bitrate than the bus, and reports the receive errors", async () => {
    const { chip, send, after, received, states } = rig({ bitrate: 250000 });
    chip.busBitrate = 500000;
    for (let i = 0; i < 130; i++) {
      send(busFrame(0x1, [1]));
      await after(0.1);
    }
    assert.equal(received.length, 0);
    assert.deepEqual(
      states.map(([state, , rec]) => [state, rec]),
      [
        ["error-warning", 96],
        ["error-passive", 128],
      ],
    );
  });

  it("stops: configuration mode, interrupts off", () => {
    const { driver, chip } = rig();
    driver.stop();
    assert.equal(driver.state, "stopped");
    assert.equal(chip.modeName, "configuration");
    assert.equal(chip.peek(0x2b), 0);
    assert.equal(driver.write(frame(0x1)), false);
  });
});
