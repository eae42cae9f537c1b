// python-can's udp_multicast wire format: the transport's msgpack codec against the bytes
// python-can itself packs and reads (Debian's /usr/bin/python3), and against bad datagrams.
import assert from "node:assert/strict";
import { encode } from "@msgpack/msgpack";
import fc from "fast-check";
import type { BusFrame } from "../../host-sim/devices/can-bus.ts";
import { busFrameProblem } from "../../host-sim/devices/can-message.ts";
import { DEFAULT_GROUP, DEFAULT_PORT, packMessage, parseCanTransport, unpackMessage } from "../../host-sim/devices/can-udp.ts";
import { runs } from "../helpers/fuzz.ts";
import { hasPythonCan, pythonCan } from "../helpers/python-can.ts";
import { needs } from "../helpers/sim.ts";

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

function frame(fields: Partial<BusFrame> & { arbitration_id: number }): BusFrame {
  const data = fields.data ?? new Uint8Array(0);
  return {
    is_extended_id: false,
    is_remote_frame: false,
    is_error_frame: false,
    is_fd: false,
    bitrate_switch: false,
    error_state_indicator: false,
    dlc: data.length,
    timestamp: 1700000000.125,
    ...fields,
    data,
  };
}

const CASES: BusFrame[] = [
  frame({ arbitration_id: 0x123, data: Uint8Array.of(1, 2, 3) }),
  frame({ arbitration_id: 0x7ff }),
  frame({ arbitration_id: 0x1abcdef0, is_extended_id: true, data: Uint8Array.from({ length: 8 }, (_, i) => 0xf0 + i) }),
  frame({ arbitration_id: 0x10, is_remote_frame: true, dlc: 4 }),
  frame({ arbitration_id: 0x1fffffff, is_extended_id: true, is_remote_frame: true, dlc: 8, timestamp: 0.5 }),
  frame({ arbitration_id: 0x40, is_error_frame: true, data: new Uint8Array(8) }),
  frame({ arbitration_id: 0x321, is_fd: true, bitrate_switch: true, error_state_indicator: true, data: Uint8Array.from({ length: 64 }, (_, i) => i) }),
  frame({ arbitration_id: 0x1234567, is_extended_id: true, is_fd: true, data: new Uint8Array(12), timestamp: 1795000000.75 }),
];

/** python-can's own pack_message of each case (given as JSON), one hex line each. */
const PACK = `
import json, sys
from can import Message
from can.interfaces.udp_multicast.utils import pack_message
for c in json.loads(sys.argv[1]):
    c["data"] = bytes.fromhex(c["data"])
    print(pack_message(Message(check=True, **c)).hex())
`;

/** python-can's unpack_message(check=True) of each datagram (hex), as JSON lines. */
const UNPACK = `
import json, sys
from can.interfaces.udp_multicast.utils import unpack_message
for line in json.loads(sys.argv[1]):
    m = unpack_message(bytes.fromhex(line), check=True)
    print(json.dumps({"timestamp": m.timestamp, "arbitration_id": m.arbitration_id, "is_extended_id": m.is_extended_id,
        "is_remote_frame": m.is_remote_frame, "is_error_frame": m.is_error_frame, "is_fd": m.is_fd,
        "bitrate_switch": m.bitrate_switch, "error_state_indicator": m.error_state_indicator, "dlc": m.dlc,
        "data": m.data.hex(), "channel": m.channel}))
`;

const asJson = (f: BusFrame) => ({ ...f, data: hex(f.data) });

/** Classic and FD frames python-can accepts. */
const validFrame = fc
  .record({
    extended: fc.boolean(),
    kind: fc.constantFrom("data", "remote", "error", "fd"),
    id: fc.integer({ min: 0, max: 0x1fffffff }),
    length: fc.integer({ min: 0, max: 8 }),
    fdLength: fc.constantFrom(0, 1, 8, 12, 16, 20, 24, 32, 48, 64),
    brs: fc.boolean(),
    esi: fc.boolean(),
    bytes: fc.uint8Array({ minLength: 64, maxLength: 64 }),
    timestamp: fc.double({ min: 0, max: 4e9, noNaN: true }),
  })
  .map(({ extended, kind, id, length, fdLength, brs, esi, bytes, timestamp }) => {
    const arbitration_id = extended ? id : id & 0x7ff;
    const fd = kind === "fd";
    const n = fd ? fdLength : length;
    return frame({
      arbitration_id,
      is_extended_id: extended,
      is_remote_frame: kind === "remote",
      is_error_frame: kind === "error",
      is_fd: fd,
      bitrate_switch: fd && brs,
      error_state_indicator: fd && esi,
      dlc: n,
      data: kind === "remote" ? new Uint8Array(0) : bytes.slice(0, n),
      timestamp,
    });
  });

describe("python-can's udp_multicast wire format", () => {
  it("packs each frame to the very bytes python-can packs", async function () {
    needs(this, "/usr/bin/python3 with python3-can and python3-msgpack", hasPythonCan);
    const cases = CASES.map((f) => {
      const { data, ...rest } = asJson(f);
      return { ...rest, data };
    });
    const theirs = (await pythonCan(PACK, [JSON.stringify(cases)]).done).trim().split("\n");
    assert.deepEqual(CASES.map((f) => hex(packMessage(f))), theirs);
    // and reads python-can's bytes back to the same frames
    theirs.forEach((line, i) => assert.deepEqual(unpackMessage(Buffer.from(line, "hex"), CASES[i].timestamp), CASES[i]));
  });

  it("packs frames python-can reads back unchanged, whatever their fields", async function () {
    needs(this, "/usr/bin/python3 with python3-can and python3-msgpack", hasPythonCan);
    const frames = fc.sample(validFrame, { numRuns: 300, seed: 6 });
    const lines = (await pythonCan(UNPACK, [JSON.stringify(frames.map((f) => hex(packMessage(f))))]).done).trim().split("\n");
    assert.equal(lines.length, frames.length);
    lines.forEach((line, i) => assert.deepEqual(JSON.parse(line), { ...asJson(frames[i]), channel: null }));
  });

  it("round-trips every frame python-can accepts", () => {
    fc.assert(
      fc.property(validFrame, (f) => {
        assert.equal(busFrameProblem(f), undefined);
        assert.deepEqual(unpackMessage(packMessage(f), f.timestamp), f);
      }),
      { numRuns: runs(2000) },
    );
  });

  it("takes python-can's defaults for fields left out, as Message does", () => {
    const f = unpackMessage(encode({ arbitration_id: 0x100, data: Uint8Array.of(9, 9) }), 5);
    assert.deepEqual(f, frame({ arbitration_id: 0x100, is_extended_id: true, data: Uint8Array.of(9, 9), timestamp: 5 }));
  });

  it("refuses what python-can's unpack_message(check=True) refuses, saying why", () => {
    const bad: [unknown, RegExp][] = [
      [[1, 2], /not a msgpack map/],
      [{ arbitration_id: 0x800, is_extended_id: false }, /does not fit 11 bits/],
      [{ arbitration_id: 0x20000000 }, /does not fit 29 bits/],
      [{ arbitration_id: 1, dlc: 9, data: new Uint8Array(9) }, /dlc 9/],
      [{ arbitration_id: 1, dlc: 2, data: new Uint8Array(3) }, /dlc 2 with 3 data bytes/],
      [{ arbitration_id: 1, is_remote_frame: true, data: Uint8Array.of(1) }, /remote frames may not carry any data/],
      [{ arbitration_id: 1, bitrate_switch: true }, /CAN FD's/],
      [{ arbitration_id: 1, is_fd: true, data: new Uint8Array(9) }, /length is one of/],
      [{ arbitration_id: 1, colour: "red" }, /unknown field "colour"/],
      [{ arbitration_id: "1" }, /arbitration_id is not a number/],
      [{ arbitration_id: 1, is_fd: 1 }, /is_fd is not a boolean/],
      [{ arbitration_id: 1, data: "ab" }, /data is not bytes/],
    ];
    for (const [value, why] of bad) assert.throws(() => unpackMessage(encode(value)), why, JSON.stringify(value));
    assert.throws(() => unpackMessage(Uint8Array.of(0xc1)), /not msgpack/);
  });

  it("throws nothing but an Error of its own on any datagram", () => {
    const datagrams = fc.oneof(
      fc.uint8Array({ maxLength: 200 }),
      fc.dictionary(fc.constantFrom("arbitration_id", "dlc", "data", "is_fd", "is_remote_frame", "is_extended_id", "timestamp", "x"), fc.jsonValue()).map((m) => encode(m)),
    );
    fc.assert(
      fc.property(datagrams, (bytes) => {
        try {
          const f = unpackMessage(bytes);
          assert.equal(busFrameProblem(f), undefined);
        } catch (e) {
          assert.ok(e instanceof Error && e.message.length > 0);
        }
      }),
      { numRuns: runs(3000) },
    );
  });

  it("takes --can as udp-multicast, udp-multicast:GROUP or udp-multicast:[GROUP]:PORT", () => {
    assert.deepEqual(parseCanTransport("udp-multicast"), { transport: "udp-multicast", group: DEFAULT_GROUP, port: DEFAULT_PORT });
    assert.deepEqual(parseCanTransport("udp-multicast:ff15::1"), { transport: "udp-multicast", group: "ff15::1", port: 43113 });
    assert.deepEqual(parseCanTransport("udp-multicast:[ff15::1:2]:40000"), { transport: "udp-multicast", group: "ff15::1:2", port: 40000 });
    assert.deepEqual(parseCanTransport("udp-multicast:[ff02::5]"), { transport: "udp-multicast", group: "ff02::5", port: 43113 });
    assert.throws(() => parseCanTransport("udp"), /use udp-multicast/);
    assert.throws(() => parseCanTransport("udp-multicast:fe80::1"), /an IPv6 multicast address/);
    assert.throws(() => parseCanTransport("udp-multicast:[ff15::1]:70000"), /bad CAN port 70000/);
  });
});
