// The TWAI controller model (host-sim/devices/twai.ts) on a bus of its own, and the TWAI
// driver's acceptance filter (drivers/can/twai/twai.ts) against Linux's CAN_RAW filter rules.
import assert from "node:assert/strict";
import fc from "fast-check";
import { CanBus, type BusFrame, type BusNode } from "../../host-sim/devices/can-bus.ts";
import { busFrame, packBusFrame, unpackBusFrame } from "../../host-sim/devices/can-message.ts";
import { ALERT, TwaiController, TwaiState, acceptanceMatches, type TwaiConfig } from "../../host-sim/devices/twai.ts";
import { importFirmware } from "../helpers/firmware-module.ts";
import { runs } from "../helpers/fuzz.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A controller, and what it has delivered to the firmware: each delivery goes in when taken. */
function controller(config: Partial<TwaiConfig> = {}, bus = new CanBus()) {
  const deliveries: (() => [number, Uint8Array])[] = [];
  const c = new TwaiController({ transmit: 21, receive: 22, bitrate: 500000, mode: 0, code: 0, mask: 0xffffffff, txQueue: 4, rxQueue: 3, ...config }, bus, (take) => deliveries.push(take));
  /** Takes the pending delivery: the alerts raised and the frames it brings. */
  const take = () => {
    const alerts = deliveries.splice(0).map((d) => d());
    return { alerts: alerts.reduce((a, [bits]) => a | bits, 0), frames: alerts.flatMap(([, f]) => Array.from({ length: f.length / 16 }, (_, i) => unpackBusFrame(f.subarray(i * 16, i * 16 + 16)))) };
  };
  return { c, bus, take, deliveries };
}

/** A node that hears frames and acknowledges them. */
function listener(bus: CanBus): { heard: BusFrame[] } & BusNode {
  const node = { heard: [] as BusFrame[], receive: (f: BusFrame) => void node.heard.push(f) };
  bus.attach(node);
  return node;
}

const std = (id: number, data: number[] = []) => busFrame({ arbitration_id: id, is_extended_id: false, data });

describe("the TWAI controller model", () => {
  it("sends queued frames at the bitrate, and says when the queue is full", async () => {
    const { c, bus, take } = controller({ bitrate: 125000, txQueue: 4 });
    const node = listener(bus);
    const t0 = performance.now();
    for (let i = 0; i < 4; i++) assert.equal(c.write(packBusFrame(std(0x100 + i, [1, 2, 3, 4, 5, 6, 7, 8]))), true);
    assert.equal(c.write(packBusFrame(std(0x200))), false, "a fifth frame fits no 4-frame queue");
    assert.equal(c.status()[3], 4);
    while (node.heard.length < 4) await sleep(1);
    // 4 frames of 111 bits at 125 kbit/s take 3.55 ms on the wire.
    assert.ok(performance.now() - t0 >= 3.5, `took ${performance.now() - t0} ms`);
    assert.deepEqual(
      node.heard.map((f) => f.arbitration_id),
      [0x100, 0x101, 0x102, 0x103],
    );
    const { alerts } = take();
    assert.equal(alerts & (ALERT.TX_SUCCESS | ALERT.TX_IDLE), ALERT.TX_SUCCESS | ALERT.TX_IDLE);
    c.close();
  });

  it("queues received frames up to its depth, counts the ones it misses, and hands them over as a delivery goes in", () => {
    const { c, bus, take, deliveries } = controller({ rxQueue: 3 });
    for (let i = 0; i < 5; i++) bus.send(std(0x10 + i, [i]));
    assert.equal(deliveries.length, 1, "one delivery on its way at a time");
    assert.deepEqual(c.status().slice(4, 7), [3, 0, 2]);
    const { alerts, frames } = take();
    assert.equal(alerts, ALERT.RX_DATA | ALERT.RX_QUEUE_FULL);
    assert.deepEqual(
      frames.map((f) => [f.arbitration_id, [...f.data]]),
      [
        [0x10, [0]],
        [0x11, [1]],
        [0x12, [2]],
      ],
    );
    bus.send(std(0x20));
    assert.deepEqual(take().frames.map((f) => f.arbitration_id), [0x20]);
    c.close();
  });

  it("alone on a bus in normal mode, gets no acknowledgement: TEC climbs by 8 to error-passive and stays", async () => {
    const { c, bus, take } = controller({ bitrate: 1000000 });
    c.write(packBusFrame(std(0x100)));
    while (c.tec < 128) await sleep(2);
    await sleep(30);
    assert.equal(c.tec, 128, "an error-passive transmitter's ACK errors add nothing");
    assert.equal(c.state, TwaiState.Running);
    const { alerts } = take();
    assert.equal(alerts & (ALERT.BUS_ERROR | ALERT.ABOVE_ERR_WARN | ALERT.ERR_PASS), ALERT.BUS_ERROR | ALERT.ABOVE_ERR_WARN | ALERT.ERR_PASS);
    assert.equal(alerts & ALERT.TX_SUCCESS, 0);
    // A second node comes: the frame goes, and each success takes one off the TEC.
    const node = listener(bus);
    while (!node.heard.length) await sleep(2);
    assert.equal(node.heard[0].arbitration_id, 0x100);
    assert.equal(c.tec, 127);
    assert.equal(take().alerts & (ALERT.TX_SUCCESS | ALERT.ERR_ACTIVE), ALERT.TX_SUCCESS | ALERT.ERR_ACTIVE);
    c.close();
  });

  it("sends without an acknowledgement in no-ack mode, and not at all in listen-only mode", async () => {
    const alone = controller({ mode: 1 });
    let sent = 0;
    alone.bus.send = (...args) => {
      sent++;
      return CanBus.prototype.send.apply(alone.bus, args);
    };
    alone.c.write(packBusFrame(std(0x1)));
    while (!sent) await sleep(1);
    assert.equal(alone.c.tec, 0);
    alone.c.close();
    const quiet = controller({ mode: 2 });
    assert.throws(() => quiet.c.write(packBusFrame(std(0x1))), /listen-only mode does not transmit/);
    quiet.bus.send(std(0x5));
    assert.equal(quiet.take().frames.length, 1, "it still receives");
    quiet.c.close();
  });

  it("goes bus-off on the fault, recovers after 128 x 11 bit times, and runs again once started", async () => {
    const { c, take } = controller({ bitrate: 25000 });
    c.busOff();
    assert.equal(c.state, TwaiState.BusOff);
    assert.equal(c.status()[1], 256);
    assert.throws(() => c.write(packBusFrame(std(1))), /not running/);
    assert.equal(take().alerts, ALERT.BUS_OFF);
    assert.throws(() => c.start(), /not stopped/);
    const t0 = performance.now();
    c.recover();
    assert.equal(c.state, TwaiState.Recovering);
    while (c.state === TwaiState.Recovering) await sleep(1);
    // 1408 bits at 25 kbit/s: 56.3 ms.
    assert.ok(performance.now() - t0 >= 55, `recovered in ${performance.now() - t0} ms`);
    assert.deepEqual(c.status().slice(0, 3), [TwaiState.Stopped, 0, 0]);
    assert.equal(take().alerts, ALERT.RECOVERY_IN_PROGRESS | ALERT.BUS_RECOVERED);
    c.start();
    assert.equal(c.state, TwaiState.Running);
    c.close();
  });

  it("takes CAN FD frames and error flags on the bus for bus errors", () => {
    const { c, bus, take } = controller();
    bus.send(busFrame({ arbitration_id: 1, is_fd: true, data: new Uint8Array(12) }));
    bus.send(busFrame({ arbitration_id: 2, is_error_frame: true }));
    assert.deepEqual([c.rec, c.busErrors], [2, 2]);
    const { alerts, frames } = take();
    assert.equal(alerts, ALERT.BUS_ERROR);
    assert.equal(frames.length, 0);
    c.close();
  });

  it("refuses a malformed frame with the reason", () => {
    const { c } = controller();
    assert.throws(() => c.write(new Uint8Array(8)), /16-byte struct can_frame/);
    const tooLong = packBusFrame(std(1));
    tooLong[4] = 9;
    assert.throws(() => c.write(tooLong), /dlc 9/);
    const error = packBusFrame(std(1));
    error[3] = 0x20;
    assert.throws(() => c.write(error), /error frame/);
    c.close();
  });
});

interface TwaiDriverModule {
  twaiAcceptance(filter?: { can_id: number; can_mask: number }): { code: number; mask: number };
  FilterSet: new (filters: { can_id: number; can_mask: number }[]) => { passes(frame: { can_id: number; len: number; data: Uint8Array }): boolean };
}

describe("the TWAI driver's acceptance filter", () => {
  let driver: TwaiDriverModule;
  before(async () => {
    driver = await importFirmware<TwaiDriverModule>(`export { twaiAcceptance } from "xsock/can/twai"; export { FilterSet } from "xsock/can-filter";`, {
      "xsock/can/twai-native": "export default class TwaiNative {}",
    });
  });

  const frames = fc
    .record({ extended: fc.boolean(), rtr: fc.boolean(), id: fc.integer({ min: 0, max: 0x1fffffff }), data: fc.uint8Array({ maxLength: 8 }) })
    .map(({ extended, rtr, id, data }) => busFrame({ arbitration_id: extended ? id : id & 0x7ff, is_extended_id: extended, is_remote_frame: rtr, data: rtr ? undefined : data }));
  const canId = (f: BusFrame) => ((f.is_extended_id ? 0x80000000 : 0) | (f.is_remote_frame ? 0x40000000 : 0) | f.arbitration_id) >>> 0;
  const filters = fc.record({
    id: fc.integer({ min: 0, max: 0x1fffffff }),
    mask: fc.integer({ min: 0, max: 0x1fffffff }),
    extended: fc.boolean(),
    eff: fc.boolean(),
    rtr: fc.boolean(),
    rtrMask: fc.boolean(),
    inverted: fc.boolean(),
  });

  it("never drops a frame the socket filter passes (TWAI's mask polarity is SocketCAN's inverted)", () => {
    fc.assert(
      fc.property(filters, frames, (f, frame) => {
        const filter = {
          can_id: ((f.extended ? 0x80000000 : 0) | (f.rtr ? 0x40000000 : 0) | (f.inverted ? 0x20000000 : 0) | (f.extended ? f.id : f.id & 0x7ff)) >>> 0,
          can_mask: ((f.eff ? 0x80000000 : 0) | (f.rtrMask ? 0x40000000 : 0) | f.mask) >>> 0,
        };
        const { code, mask } = driver.twaiAcceptance(filter);
        const wanted = new driver.FilterSet([filter]).passes({ can_id: canId(frame), len: frame.dlc, data: frame.data });
        if (wanted) assert.ok(acceptanceMatches(code, mask, frame), `0x${canId(frame).toString(16)} wanted by ${JSON.stringify(filter)} but code ${code.toString(16)} mask ${mask.toString(16)} drops it`);
      }),
      { numRuns: runs(5000) },
    );
  });

  it("drops exactly what an exact filter of one format does not want, of that format", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0x1fffffff }), fc.boolean(), frames, (id, extended, frame) => {
        if (frame.is_extended_id !== extended) return;
        const filter = extended ? { can_id: (0x80000000 | id) >>> 0, can_mask: 0xdfffffff } : { can_id: id & 0x7ff, can_mask: 0xc00007ff };
        const { code, mask } = driver.twaiAcceptance(filter);
        const wanted = new driver.FilterSet([filter]).passes({ can_id: canId(frame), len: frame.dlc, data: frame.data });
        assert.equal(acceptanceMatches(code, mask, frame), wanted);
      }),
      { numRuns: runs(5000) },
    );
    // An exact standard filter: id in bits 31-21, RTR in bit 20, the data bytes left free.
    assert.deepEqual(driver.twaiAcceptance({ can_id: 0x123, can_mask: 0xc00007ff }), { code: 0x24600000, mask: 0x000fffff });
    assert.deepEqual(driver.twaiAcceptance({ can_id: 0x80000000 | 0x1abcdef0, can_mask: 0x9fffffff }), { code: (0x1abcdef0 << 3) >>> 0, mask: 0x00000007 });
    assert.deepEqual(driver.twaiAcceptance(undefined), { code: 0, mask: 0xffffffff });
    assert.deepEqual(driver.twaiAcceptance({ can_id: 0x123, can_mask: 0x7ff }), { code: 0, mask: 0xffffffff }, "either format: all");
  });
});
