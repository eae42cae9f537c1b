// The MCP2515 model against the datasheet (DS20001801): reset values, the SPI instructions,
// which registers BIT MODIFY reaches, READ STATUS and RX STATUS bits, modes, transmit
// priorities, filters and rollover, interrupts, and ISO 11898 fault confinement.
import assert from "node:assert/strict";
import { CanBus, type BusFrame, type BusNode } from "../../host-sim/devices/can-bus.ts";
import { Mcp2515, decodeBitTiming, frameBits } from "../../host-sim/devices/mcp2515.ts";
import { Mcp2515Module } from "../../host-sim/devices/mcp2515-module.ts";
import { busFrame as frame } from "../helpers/can.ts";
import { ManualClock } from "../helpers/manual-clock.ts";

/** The MCU's side of the SPI bus: one instruction per CS low. */
function spiOf(chip: Mcp2515) {
  const cmd = (...bytes: number[]) => {
    chip.select();
    const out = chip.transfer(Uint8Array.from(bytes));
    chip.deselect();
    return [...out];
  };
  return {
    cmd,
    read: (address: number, count = 1) => cmd(0x03, address, ...Array<number>(count).fill(0)).slice(2),
    write: (address: number, ...values: number[]) => void cmd(0x02, address, ...values),
    modify: (address: number, mask: number, value: number) => void cmd(0x05, address, mask, value),
    status: () => cmd(0xa0, 0)[1],
    rxStatus: () => cmd(0xb0, 0)[1],
  };
}

/** A chip on a bus with a second node that hears (and so acknowledges) what it sends. */
function bench(oscillator = 16e6) {
  const clock = new ManualClock();
  const bus = new CanBus();
  const chip = new Mcp2515({ oscillator, clock });
  chip.attach(bus);
  const heard: BusFrame[] = [];
  const peer: BusNode = { receive: (f) => void heard.push(f) };
  const detachPeer = bus.attach(peer);
  const spi = spiOf(chip);
  /** Another node sends a frame, and the bus carries it (0.3 ms: a frame's time at 500 kbit/s). */
  const send = (f: BusFrame) => {
    bus.send(f, peer);
    clock.advance(0.3);
  };
  return { clock, bus, chip, heard, peer, detachPeer, spi, send };
}

/** 500 kbit/s on 16 MHz (BRP 0, 16 TQ), then `reqop`. */
function run(spi: ReturnType<typeof spiOf>, reqop = 0x00) {
  spi.write(0x28, 0x01, 0xb5, 0x00); // CNF3 PS2 2, CNF2 BTLMODE PS1 7 PropSeg 6, CNF1 BRP 0
  spi.write(0x0f, reqop);
}

/** Loads TXBn with a standard data frame and requests it (WRITE then RTS). */
function load(spi: ReturnType<typeof spiOf>, n: number, id: number, data: number[], priority = 0) {
  spi.write(0x30 + 16 * n, priority, id >> 3, (id & 7) << 5, 0, 0, data.length, ...data);
}

describe("MCP2515 model: registers and SPI instructions", () => {
  it("comes out of reset in configuration mode with the datasheet's register values", () => {
    const { spi } = bench();
    spi.write(0x2b, 0xff); // something to reset
    spi.cmd(0xc0);
    const map = spi.read(0x00, 128);
    for (let row = 0; row < 8; row++) {
      assert.equal(map[row * 16 + 0x0e], 0x80, `CANSTAT at ${(row * 16 + 0x0e).toString(16)}h`);
      assert.equal(map[row * 16 + 0x0f], 0x87, `CANCTRL at ${(row * 16 + 0x0f).toString(16)}h`);
    }
    // BFPCTRL, TEC, REC, CNF3-1, CANINTE, CANINTF, EFLG, TXBnCTRL, RXBnCTRL, masks: 0
    for (const address of [0x0c, 0x1c, 0x1d, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x30, 0x40, 0x50, 0x60, 0x70, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27])
      assert.equal(map[address], 0, `${address.toString(16)}h`);
    assert.equal(map[0x0d] & 0xc7, 0, "TXRTSCTRL: 00xx x000");
  });

  it("READ and WRITE move through consecutive addresses", () => {
    const { spi } = bench();
    spi.write(0x28, 0x05, 0x90, 0x03);
    assert.deepEqual(spi.read(0x28, 3), [0x05, 0x90, 0x03]);
    assert.deepEqual(spi.read(0x2a, 1), [0x03]);
  });

  it("writes CNF1-3, TXRTSCTRL, filters and masks in configuration mode only", () => {
    const { spi, chip } = bench();
    spi.write(0x2a, 0x07);
    spi.write(0x00, 0xab);
    spi.write(0x20, 0xcd);
    spi.write(0x0f, 0x00); // normal mode
    assert.equal(chip.modeName, "normal");
    spi.write(0x2a, 0x01);
    spi.write(0x00, 0x11);
    spi.write(0x20, 0x22);
    spi.write(0x0d, 0x07);
    assert.deepEqual([spi.read(0x2a)[0], spi.read(0x00)[0], spi.read(0x20)[0], spi.read(0x0d)[0] & 7], [0x07, 0xab, 0xcd, 0]);
    spi.write(0x2b, 0x5a); // CANINTE is writable in any mode
    assert.equal(spi.read(0x2b)[0], 0x5a);
  });

  it("BIT MODIFY changes the masked bits of the registers it reaches, and writes whole bytes elsewhere", () => {
    const { spi } = bench();
    spi.write(0x2b, 0b1010_1010);
    spi.modify(0x2b, 0b0000_1111, 0b0101_0101); // CANINTE: bit-modifiable
    assert.equal(spi.read(0x2b)[0], 0b1010_0101);
    spi.write(0x29, 0xff);
    spi.modify(0x29, 0x07, 0x00); // CNF2
    assert.equal(spi.read(0x29)[0], 0xf8);
    // RXF0SIDH and TXB0SIDH are not: the mask counts as FFh (section 12.10's note).
    spi.write(0x00, 0xff);
    spi.modify(0x00, 0x01, 0x00);
    assert.equal(spi.read(0x00)[0], 0x00);
    spi.write(0x31, 0xf0);
    spi.modify(0x31, 0x0f, 0x0f);
    assert.equal(spi.read(0x31)[0], 0x0f);
  });

  it("reaches CANCTRL at any of its addresses (xFh), and REQOP moves OPMOD in CANSTAT", () => {
    const { spi } = bench();
    spi.modify(0x3f, 0xe0, 0x60); // listen-only, through the TXB0 row's mirror
    assert.equal(spi.read(0x0e)[0] >> 5, 3);
    assert.equal(spi.read(0x7f)[0], 0x67);
    spi.modify(0x0f, 0xe0, 0xa0); // REQOP 101: not a mode
    assert.equal(spi.read(0x5e)[0] >> 5, 3);
    spi.modify(0x0f, 0xe0, 0x80);
    assert.equal(spi.read(0x0e)[0], 0x80);
  });

  it("keeps read-only and unimplemented bits: TEC, REC, CANSTAT, EFLG, TXBnCTRL, RXBnSIDL", () => {
    const { spi } = bench();
    spi.write(0x1c, 0x55, 0x55);
    spi.write(0x0e, 0x55);
    spi.write(0x2d, 0xff);
    spi.write(0x30, 0xff);
    spi.write(0x62, 0xff);
    assert.deepEqual(spi.read(0x1c, 2), [0, 0]);
    assert.equal(spi.read(0x0e)[0], 0x80);
    assert.equal(spi.read(0x2d)[0], 0xc0, "only RX1OVR and RX0OVR are writable");
    assert.equal(spi.read(0x30)[0], 0x0b, "TXREQ and TXP");
    assert.equal(spi.read(0x62)[0], 0);
  });

  it("READ STATUS puts RX0IF, RX1IF, and TXREQ and TXnIF of each buffer in bits 0 to 7, repeated while clocked", () => {
    const { spi } = bench();
    spi.cmd(0x81); // RTS TXB0 in configuration mode: TXREQ stays set
    assert.equal(spi.status(), 0b0000_0100);
    spi.cmd(0x86);
    assert.equal(spi.status(), 0b0101_0100);
    spi.write(0x2c, 0x01 | 0x02 | 0x04 | 0x08 | 0x10); // the MCU may set the flags itself
    assert.equal(spi.status(), 0xff);
    spi.modify(0x2c, 0x0a, 0); // RX1IF, TX1IF
    assert.equal(spi.status(), 0b1101_1101);
    assert.deepEqual(spi.cmd(0xa0, 0, 0, 0).slice(1), [0xdd, 0xdd, 0xdd]);
  });

  it("LOAD TX BUFFER starts at TXBnSIDH or TXBnD0, and READ RX BUFFER frees its buffer when CS rises", () => {
    const { spi, chip, send } = bench();
    spi.cmd(0x42, 0x24, 0x60, 0, 0, 2, 0xaa, 0xbb); // TXB1 from SIDH
    spi.cmd(0x45, 0xcc); // TXB2 from D0
    assert.deepEqual(spi.read(0x41, 7), [0x24, 0x60, 0, 0, 2, 0xaa, 0xbb]);
    assert.equal(spi.read(0x56)[0], 0xcc);
    run(spi);
    spi.write(0x60, 0x60); // RXB0: any frame
    send(frame(0x123, [1, 2, 3]));
    assert.equal(spi.read(0x2c)[0] & 1, 1);
    chip.select();
    const bytes = [...chip.transfer(Uint8Array.from([0x90, ...Array<number>(8).fill(0)]))].slice(1);
    assert.equal(chip.peek(0x2c) & 1, 1, "RX0IF stays set while CS is low");
    chip.deselect();
    assert.deepEqual(bytes, [0x24, 0x60, 0, 0, 3, 1, 2, 3]);
    assert.equal(spi.read(0x2c)[0] & 1, 0, "and clears when CS rises");
    send(frame(0x7ff, [9, 8]));
    assert.deepEqual(spi.cmd(0x92, 0, 0).slice(1), [9, 8], "0x92 starts at RXB0D0");
  });

  it("decodes CNF1-3 into a bitrate (BTLMODE 1: PS2 from CNF3; 0: the greater of PS1 and 2 TQ)", () => {
    assert.equal(decodeBitTiming(16e6, 0x00, 0xf0, 0x86).bitrate, 500000); // 1+1+7+7 TQ of 125 ns
    assert.equal(decodeBitTiming(8e6, 0x00, 0x90, 0x02).bitrate, 500000); // 1+1+3+3 TQ of 250 ns
    const legacy = decodeBitTiming(16e6, 0x01, 0x2a, 0x07); // BTLMODE 0: PS1 6, so PS2 6
    assert.equal(legacy.ps2, 6);
    assert.equal(legacy.quanta, 1 + 3 + 6 + 6);
    // What some Arduino libraries write for 1 Mbit/s on an 8 MHz crystal breaks three rules.
    assert.deepEqual(decodeBitTiming(8e6, 0x00, 0x80, 0x80).problems, ["4 time quanta in a bit (8 to 25)", "PS2 <= SJW", "PS2 < 2 TQ"]);
  });
});

describe("MCP2515 model: interrupts", () => {
  it("drives INT low while an enabled flag is set, and ICOD names the highest-priority one", () => {
    const { spi, chip } = bench();
    const levels: number[] = [];
    chip.onInt((level) => levels.push(level));
    spi.write(0x2c, 0x02); // RX1IF, not enabled
    assert.equal(chip.int, 1);
    spi.write(0x2b, 0x22); // RX1IE, ERRIE
    assert.equal(chip.int, 0);
    assert.equal((spi.read(0x0e)[0] >> 1) & 7, 0b111, "RXB1");
    spi.modify(0x2c, 0x20, 0x20);
    assert.equal((spi.read(0x0e)[0] >> 1) & 7, 0b001, "error comes first");
    spi.modify(0x2c, 0x22, 0);
    assert.equal(chip.int, 1);
    assert.equal((spi.read(0x0e)[0] >> 1) & 7, 0);
    assert.deepEqual(levels, [0, 1]);
  });
});

describe("MCP2515 model: transmission", () => {
  it("sends the highest TXP first, and the higher buffer between equal priorities", () => {
    const { spi, clock, heard } = bench();
    load(spi, 0, 0x100, [0], 1);
    load(spi, 1, 0x101, [1], 3);
    load(spi, 2, 0x102, [2], 1);
    spi.cmd(0x87); // RTS all three, still in configuration mode
    run(spi);
    clock.advance(10);
    assert.deepEqual(
      heard.map((f) => f.arbitration_id),
      [0x101, 0x102, 0x100],
    );
    assert.equal(spi.read(0x2c)[0] & 0x1c, 0x1c, "TX0IF, TX1IF, TX2IF");
    assert.equal(spi.status() & 0x54, 0, "no TXREQ left");
  });

  it("takes a frame's time on the wire: TXREQ holds until its last bit", () => {
    const { spi, clock, heard } = bench();
    run(spi);
    clock.advance(1);
    load(spi, 0, 0x123, [1, 2, 3, 4, 5, 6, 7, 8]);
    spi.cmd(0x81);
    const bits = frameBits({ extended: false, rtr: false, dlc: 8 });
    assert.equal(bits, 111);
    clock.advance((bits - 1) * 0.002);
    assert.equal(heard.length, 0);
    assert.equal(spi.read(0x30)[0] & 0x08, 0x08);
    clock.advance(0.004);
    assert.equal(heard.length, 1);
    assert.deepEqual([...heard[0].data], [1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it("sends extended and remote frames as their registers say", () => {
    const { spi, clock, heard } = bench();
    run(spi);
    const id = 0x1abcdef5;
    const sid = id >>> 18;
    spi.write(0x40, 0, sid >> 3, ((sid & 7) << 5) | 0x08 | ((id >> 16) & 3), (id >> 8) & 0xff, id & 0xff, 0x40 | 4);
    spi.cmd(0x82);
    clock.advance(5);
    assert.deepEqual(
      { id: heard[0].arbitration_id, ext: heard[0].is_extended_id, rtr: heard[0].is_remote_frame, dlc: heard[0].dlc, data: heard[0].data.length },
      { id, ext: true, rtr: true, dlc: 4, data: 0 },
    );
  });

  it("with nobody on the bus: ACK errors add 8 to TEC up to 128 (error-passive) and no further", () => {
    const { spi, clock, heard, detachPeer, chip } = bench();
    detachPeer();
    run(spi);
    load(spi, 0, 0x10, [1]);
    spi.cmd(0x81);
    clock.advance(1000);
    assert.equal(heard.length, 0);
    assert.equal(chip.counters.tec, 128);
    assert.equal(spi.read(0x1c)[0], 128);
    assert.equal(spi.read(0x2d)[0], 0x10 | 0x04 | 0x01, "TXEP, TXWAR, EWARN");
    assert.equal(spi.read(0x30)[0] & 0x18, 0x18, "TXERR, and TXREQ still set: it keeps trying");
    assert.equal(spi.read(0x2c)[0] & 0xa0, 0xa0, "MERRF, ERRIF");
  });

  it("one-shot mode (OSM) tries once: TXREQ clears, ABTF and TXERR tell it failed", () => {
    const { spi, clock, detachPeer, chip } = bench();
    detachPeer();
    run(spi, 0x08);
    load(spi, 0, 0x10, [1]);
    spi.cmd(0x81);
    clock.advance(10);
    assert.equal(spi.read(0x30)[0] & 0x58, 0x50);
    assert.equal(chip.counters.tec, 8);
    assert.equal(spi.read(0x2c)[0] & 0x04, 0, "no TX0IF");
  });

  it("ABAT aborts what waits; the frame on the wire finishes", () => {
    const { spi, clock, heard } = bench();
    run(spi);
    clock.advance(1);
    load(spi, 0, 0x10, [1], 3);
    load(spi, 1, 0x11, [1], 0);
    spi.cmd(0x83);
    spi.modify(0x0f, 0x10, 0x10);
    clock.advance(10);
    assert.deepEqual(
      heard.map((f) => f.arbitration_id),
      [0x10],
    );
    assert.equal(spi.read(0x40)[0] & 0x48, 0x40, "TXB1: ABTF, no TXREQ");
    assert.equal(spi.read(0x30)[0] & 0x48, 0, "TXB0: sent");
  });

  it("a frame that loses arbitration sets MLOA and goes after the winner", () => {
    const { spi, clock, heard, bus, peer } = bench();
    run(spi);
    clock.advance(1);
    load(spi, 0, 0x400, [1]);
    spi.cmd(0x81);
    clock.advance(0.01);
    bus.send(frame(0x100, [2]), peer); // more dominant identifier, on the wire at the same time
    assert.equal(spi.read(0x30)[0] & 0x28, 0x28, "MLOA, TXREQ");
    clock.advance(5);
    assert.equal(heard.length, 1);
    assert.equal(spi.read(0x30)[0] & 0x08, 0);
  });

  it("a mode change waits for the frame on the wire", () => {
    const { spi, clock, heard } = bench();
    run(spi);
    clock.advance(1);
    load(spi, 0, 0x10, [1, 2, 3, 4, 5, 6, 7, 8]);
    spi.cmd(0x81);
    clock.advance(0.05);
    spi.write(0x0f, 0x80);
    assert.equal(spi.read(0x0e)[0] >> 5, 0, "still normal");
    clock.advance(1);
    assert.equal(spi.read(0x0e)[0] >> 5, 4);
    assert.equal(heard.length, 1);
  });

  it("goes bus-off past TEC 255 and recovers by itself after 128 x 11 recessive bits", () => {
    const { spi, clock, chip, heard } = bench();
    run(spi);
    clock.advance(1);
    chip.spoilTransmissions(32);
    load(spi, 0, 0x10, [1]);
    spi.cmd(0x81);
    clock.advance(5); // 32 attempts of 55 bits, with error frames between
    assert.equal(chip.counters.busOff, true);
    assert.equal(spi.read(0x2d)[0] & 0x20, 0x20, "TXBO");
    assert.equal(heard.length, 0);
    clock.advance(128 * 11 * 0.002 - 1);
    assert.equal(chip.counters.busOff, true);
    clock.advance(5);
    assert.equal(chip.counters.busOff, false);
    assert.equal(heard.length, 1, "the pending frame goes after recovery");
  });

  it("entering configuration mode clears the error counters", () => {
    const { spi, clock, chip, detachPeer } = bench();
    detachPeer();
    run(spi);
    load(spi, 0, 0x10, [1]);
    spi.cmd(0x81);
    clock.advance(1);
    assert.ok(chip.counters.tec > 0);
    spi.modify(0x0f, 0xf0, 0x90); // configuration, ABAT
    clock.advance(1);
    assert.deepEqual(spi.read(0x1c, 2), [0, 0]);
  });

  it("loopback mode receives its own frames and keeps them off the bus", () => {
    const { spi, clock, heard } = bench();
    spi.write(0x60, 0x60);
    run(spi, 0x40);
    clock.advance(1);
    load(spi, 0, 0x321, [7]);
    spi.cmd(0x81);
    clock.advance(5);
    assert.equal(heard.length, 0);
    assert.equal(spi.read(0x2c)[0] & 0x05, 0x05, "RX0IF, TX0IF");
    assert.deepEqual(spi.read(0x61, 6), [0x64, 0x20, 0, 0, 1, 7]);
  });
});

describe("MCP2515 model: reception", () => {
  it("takes frames that come in a burst one frame time apart, as a bus carries them", () => {
    const { spi, bus, peer, clock, chip } = bench();
    spi.write(0x60, 0x64);
    run(spi);
    bus.send(frame(0x1, [1, 2, 3, 4, 5, 6, 7, 8]), peer);
    bus.send(frame(0x2, [1, 2, 3, 4, 5, 6, 7, 8]), peer);
    assert.equal(chip.peek(0x2c) & 3, 1, "the second is still on the wire");
    clock.advance(frameBits({ extended: false, rtr: false, dlc: 8 }) * 0.002);
    assert.equal(chip.peek(0x2c) & 3, 3);
  });

  it("drops what comes faster than the bus carries, once it is more than 50 ms behind", () => {
    const { spi, bus, peer, clock, chip } = bench();
    spi.write(0x60, 0x60);
    spi.write(0x2b, 0x01); // RX0IE
    run(spi);
    const frameMs = frameBits({ extended: false, rtr: false, dlc: 8 }) * 0.002;
    let taken = 0;
    const take = () => {
      if (!(chip.peek(0x2c) & 1)) return;
      taken++;
      spi.modify(0x2c, 0x01, 0);
    };
    for (let i = 0; i < 1000; i++) bus.send(frame(i, [1, 2, 3, 4, 5, 6, 7, 8]), peer);
    take();
    for (let t = 0; t < 100; t += frameMs) {
      clock.advance(frameMs);
      take();
    }
    assert.equal(taken, Math.floor(50 / frameMs) + 1);
  });

  it("rolls over into RXB1 with BUKT, and overflows (EFLG RXnOVR, ERRIF) when both are full", () => {
    const { spi, send } = bench();
    spi.write(0x60, 0x64); // RXB0: any frame, BUKT
    spi.write(0x70, 0x60);
    run(spi);
    send(frame(0x1, [1]));
    send(frame(0x2, [2]));
    assert.equal(spi.read(0x2c)[0] & 3, 3);
    assert.equal(spi.rxStatus(), 0b1100_0000, "both buffers; RXB0's standard data frame, RXF0");
    send(frame(0x3, [3]));
    assert.equal(spi.read(0x2d)[0] & 0xc0, 0x80, "RX1OVR");
    assert.equal(spi.read(0x2c)[0] & 0x20, 0x20, "ERRIF");
    spi.cmd(0x90, 0, 0, 0, 0, 0, 0);
    assert.equal(spi.rxStatus() & 0xc7, 0b1000_0110, "RXB1 only: RXF0 rolled over");
    assert.deepEqual(spi.read(0x76, 1), [2]);
  });

  it("without BUKT a full RXB0 overflows (RX0OVR) even when RXB1 is empty", () => {
    const { spi, send } = bench();
    spi.write(0x60, 0x60);
    run(spi);
    send(frame(0x1, [1]));
    send(frame(0x2, [2]));
    assert.equal(spi.read(0x2c)[0] & 3, 1);
    assert.equal(spi.read(0x2d)[0] & 0xc0, 0x40);
  });

  it("RXF0/1 with RXM0 pick RXB0, RXF2-5 with RXM1 pick RXB1; FILHIT tells which matched", () => {
    const { spi, send } = bench();
    // RXF0 standard 0x120, RXF1 standard 0x121; RXF4 extended 0x1234567; masks: all bits.
    spi.write(0x00, 0x24, 0x00, 0, 0, 0x24, 0x20, 0, 0);
    const id = 0x1234567;
    const sid = id >>> 18;
    spi.write(0x14, sid >> 3, ((sid & 7) << 5) | 0x08 | ((id >> 16) & 3), (id >> 8) & 0xff, id & 0xff);
    spi.write(0x20, 0xff, 0xe0, 0, 0, 0xff, 0xe3, 0xff, 0xff);
    spi.write(0x70, 0x00);
    run(spi);
    send(frame(0x122, [1]));
    assert.equal(spi.read(0x2c)[0] & 3, 0, "no filter matches");
    send(frame(0x121, [1]));
    assert.equal(spi.read(0x60)[0] & 1, 1, "RXB0 by RXF1");
    send(frame(id, [1], { is_extended_id: true }));
    assert.equal(spi.read(0x70)[0] & 7, 4, "RXB1 by RXF4");
    assert.equal(spi.rxStatus() & 0x18, 0, "RXB0's frame is the one RX STATUS describes");
  });

  it("RXM 00 applies the EID8/EID0 filter bits to a standard frame's first two data bytes", () => {
    const { spi, send } = bench();
    spi.write(0x00, 0x24, 0x00, 0xbe, 0xef);
    spi.write(0x20, 0xff, 0xe0, 0xff, 0xff);
    spi.write(0x70, 0x00); // RXB1's filters RXF2-5 are zero and extended-only: nothing
    spi.write(0x08, 0, 0x08, 0, 0);
    spi.write(0x10, 0, 0x08, 0, 0, 0, 0x08, 0, 0, 0, 0x08, 0, 0);
    run(spi);
    send(frame(0x120, [0xbe, 0xee]));
    assert.equal(spi.read(0x2c)[0] & 3, 0);
    send(frame(0x120, [0xbe, 0xef, 0]));
    assert.equal(spi.read(0x2c)[0] & 3, 1);
  });

  it("stores remote frames with SRR (standard) or RTR (extended), and RXRTR", () => {
    const { spi, send } = bench();
    spi.write(0x60, 0x64);
    run(spi);
    send(frame(0x7ff, [], { is_remote_frame: true, dlc: 2 }));
    send(frame(0x1fffffff, [], { is_remote_frame: true, is_extended_id: true, dlc: 8 }));
    assert.deepEqual(spi.read(0x60, 6), [0x64 | 0x08 | 0x02, 0xff, 0xe0 | 0x10, 0, 0, 2]);
    assert.deepEqual(spi.read(0x70, 6), [0x08, 0xff, 0xeb, 0xff, 0xff, 0x48], "RXRTR; rolled over from RXF0");
    assert.equal(spi.rxStatus(), 0b1100_1000, "RXB0: standard remote frame");
  });

  it("hears nothing in configuration mode; listen-only hears but never acknowledges or counts", () => {
    const { spi, send, chip } = bench();
    spi.write(0x60, 0x60);
    send(frame(0x1, [1]));
    assert.equal(spi.read(0x2c)[0] & 1, 0);
    run(spi, 0x60);
    send(frame(0x1, [1]));
    assert.equal(spi.read(0x2c)[0] & 1, 1);
    chip.busBitrate = 250000;
    send(frame(0x2, [2]));
    assert.equal(chip.counters.rec, 0);
    assert.equal(spi.read(0x2c)[0] & 0x80, 0x80, "MERRF");
  });

  it("at another bitrate than the bus it hears only errors: REC counts, nothing is received", () => {
    const { spi, send, chip } = bench();
    chip.busBitrate = 250000; // the chip runs at 500 kbit/s
    spi.write(0x60, 0x60);
    run(spi);
    for (let i = 0; i < 96; i++) send(frame(0x1, [1]));
    assert.equal(spi.read(0x2c)[0] & 1, 0);
    assert.equal(spi.read(0x1d)[0], 96);
    assert.equal(spi.read(0x2d)[0] & 0x03, 0x03, "RXWAR, EWARN");
    chip.busBitrate = 500000;
    send(frame(0x1, [1]));
    assert.equal(spi.read(0x1d)[0], 95, "a good frame takes one off");
  });

  it("a CAN FD frame is a form error to it", () => {
    const { spi, send, chip } = bench();
    spi.write(0x60, 0x60);
    run(spi);
    send(frame(0x1, [1], { is_fd: true }));
    assert.equal(spi.read(0x2c)[0] & 0x81, 0x80);
    assert.equal(chip.counters.rec, 1);
  });

  it("wakes from sleep on bus activity into listen-only mode, with WAKIF", () => {
    const { spi, send } = bench();
    run(spi, 0x20);
    assert.equal(spi.read(0x0e)[0] >> 5, 1);
    send(frame(0x1, [1]));
    assert.equal(spi.read(0x0e)[0] >> 5, 3);
    assert.equal(spi.read(0x2c)[0] & 0x40, 0x40);
  });
});

describe("MCP2515 module on a board", () => {
  it("shows can-bus-off in the simulator's status while the chip is bus-off or the fault holds the bus", async () => {
    const module = new Mcp2515Module({ driver: "mcp2515", spi: { clock: 18, out: 23, in: 19 }, select: 5, interrupt: 4, oscillator: 8e6, bitrate: 500000 }, new CanBus(), () => {});
    const spi = spiOf(module.chip);
    spi.write(0x28, 0x01, 0xb5, 0x01); // 250 kbit/s
    spi.write(0x0f, 0x00);
    module.busOff(40);
    assert.deepEqual(module.active(), ["can-bus-off"]);
    spi.write(0x0f, 0x80); // the driver holds it in configuration mode
    assert.deepEqual(module.active(), ["can-bus-off (the bus is held dominant)"]);
    await new Promise((resolve) => setTimeout(resolve, 60));
    assert.deepEqual(module.active(), []);
    module.chip.close();
  });
});
