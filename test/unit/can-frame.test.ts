// CAN frames and CAN_RAW filters: packing checked against python-can's SocketCAN packer, and the
// filter rules against a second reading of Linux's af_can.c (its receive lists) and can.rst.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fc from "fast-check";
import { runs } from "../helpers/fuzz.ts";
import {
  CAN_EFF_FLAG,
  CAN_EFF_MASK,
  CAN_ERR_BUSOFF,
  CAN_ERR_CRTL,
  CAN_ERR_FLAG,
  CAN_ERR_MASK,
  CAN_INV_FILTER,
  CAN_RTR_FLAG,
  CAN_SFF_MASK,
  CANFD_BRS,
  canFrame,
  errorFrame,
  packFrame,
  unpackFrame,
  type CanFrame,
} from "../../src/net/can-frame.ts";
import { FilterSet, type CanFilter } from "../../src/net/can-filter.ts";

const PYTHON = "/usr/bin/python3";
const hasPythonCan = spawnSync(PYTHON, ["-c", "import can.interfaces.socketcan.socketcan"]).status === 0;

/** python-can's own packer and unpacker (can/interfaces/socketcan/socketcan.py), run on each case. */
function pythonCan(script: string, input: unknown): unknown {
  const run = spawnSync(PYTHON, ["-c", `import json, sys, can\nfrom can.interfaces.socketcan.socketcan import build_can_frame, dissect_can_frame\ncases = json.load(sys.stdin)\n${script}`], {
    input: JSON.stringify(input),
    encoding: "utf8",
  });
  if (run.status !== 0) throw new Error(run.stderr);
  return JSON.parse(run.stdout);
}

const hex = (u8: Uint8Array) => Buffer.from(u8).toString("hex");

describe("CAN frames (struct can_frame, struct canfd_frame)", () => {
  it("packs as python-can's SocketCAN interface does, and reads what it packs", function () {
    if (!hasPythonCan) this.skip();
    const frames: CanFrame[] = [
      canFrame(0x123, [1, 2, 3]),
      canFrame(0x7ff, []),
      canFrame((0x1abcdef | CAN_EFF_FLAG) >>> 0, [0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3]),
      canFrame((0x100 | CAN_RTR_FLAG) >>> 0, [], { len: 4 }),
      canFrame((0x18feef00 | CAN_EFF_FLAG | CAN_RTR_FLAG) >>> 0, [], { len: 8 }),
      canFrame(0x555, Array.from({ length: 12 }, (_, i) => i), { fd: true, flags: CANFD_BRS }),
      canFrame((0x1234567 | CAN_EFF_FLAG) >>> 0, Array.from({ length: 64 }, (_, i) => 255 - i), { fd: true }),
    ];
    const cases = frames.map((f) => ({
      id: f.can_id & CAN_EFF_MASK,
      ext: Boolean(f.can_id & CAN_EFF_FLAG),
      rtr: Boolean(f.can_id & CAN_RTR_FLAG),
      dlc: f.len,
      data: [...f.data],
      fd: Boolean(f.fd),
      brs: Boolean((f.flags ?? 0) & CANFD_BRS),
      ours: hex(packFrame(f)),
    }));
    const out = pythonCan(
      `res = []
for c in cases:
    m = can.Message(arbitration_id=c['id'], is_extended_id=c['ext'], is_remote_frame=c['rtr'], dlc=c['dlc'], data=bytes(c['data']), is_fd=c['fd'], bitrate_switch=c['brs'])
    can_id, length, flags, data = dissect_can_frame(bytes.fromhex(c['ours']))
    res.append({'packed': build_can_frame(m).hex(), 'id': can_id, 'len': length, 'flags': flags, 'data': list(data)})
print(json.dumps(res))`,
      cases,
    ) as { packed: string; id: number; len: number; flags: number; data: number[] }[];
    for (const [i, f] of frames.entries()) {
      const theirs = unpackFrame(Buffer.from(out[i].packed, "hex"));
      assert.equal(theirs.can_id, f.can_id, `frame ${i} id`);
      assert.equal(theirs.len, f.len, `frame ${i} len`);
      assert.deepEqual([...theirs.data], [...f.data], `frame ${i} data`);
      assert.equal(Boolean(theirs.fd), Boolean(f.fd));
      assert.equal(theirs.flags ?? 0, f.flags ?? 0, `frame ${i} flags`);
      // python-can reads ours back field for field.
      assert.equal(out[i].id, f.can_id, `frame ${i} id read by python-can`);
      assert.equal(out[i].len, f.len);
      if (!(f.can_id & CAN_RTR_FLAG)) assert.deepEqual(out[i].data, [...f.data]);
    }
  });

  it("lays out the 16 bytes as linux/can.h does", () => {
    assert.equal(hex(packFrame(canFrame(0x123, [1, 2, 3]))), "23010000030000000102030000000000");
    assert.equal(hex(packFrame(canFrame((0x100 | CAN_RTR_FLAG) >>> 0, [], { len: 2 }))), "00010040020000000000000000000000");
    assert.equal(packFrame(canFrame(0x1, [], { fd: true })).length, 72);
  });

  it("refuses frames no bus could carry, with the reason", () => {
    assert.throws(() => canFrame(0x800, []), /does not fit 11 bits/);
    assert.throws(() => canFrame(0x123, [0, 1, 2, 3, 4, 5, 6, 7, 8]), /0 to 8/);
    assert.throws(() => canFrame(0x123, Array(9).fill(0), { fd: true }), /one of 0, 1, .* 64, not 9/);
    assert.throws(() => canFrame((0x1 | CAN_RTR_FLAG) >>> 0, [], { fd: true }), /no remote frames/);
    assert.throws(() => unpackFrame(new Uint8Array(15)), /16 or 72 bytes/);
    const bad = packFrame(canFrame(0x1, [1]));
    bad[4] = 9;
    assert.throws(() => unpackFrame(bad), /0 to 8, not 9/);
  });

  it("round-trips any valid frame, and never throws anything but RangeError on any 16 or 72 bytes", () => {
    const frameArb = fc.oneof(
      fc.record({ id: fc.integer({ min: 0, max: CAN_SFF_MASK }), ext: fc.constant(false), data: fc.uint8Array({ maxLength: 8 }) }),
      fc.record({ id: fc.integer({ min: 0, max: CAN_EFF_MASK }), ext: fc.constant(true), data: fc.uint8Array({ maxLength: 8 }) }),
    );
    fc.assert(
      fc.property(frameArb, ({ id, ext, data }) => {
        const f = canFrame((id | (ext ? CAN_EFF_FLAG : 0)) >>> 0, data);
        assert.deepEqual(unpackFrame(packFrame(f)), f);
      }),
      { numRuns: runs(500) },
    );
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.uint8Array({ minLength: 72, maxLength: 72 })), (bytes) => {
        try {
          const f = unpackFrame(bytes);
          assert.deepEqual(unpackFrame(packFrame(f)), f);
        } catch (e) {
          assert.ok(e instanceof RangeError, String(e));
        }
      }),
      { numRuns: runs(500) },
    );
  });

  it("builds error frames as linux/can/error.h lays them out", () => {
    const f = errorFrame(CAN_ERR_BUSOFF, []);
    assert.equal(f.can_id, (CAN_ERR_FLAG | CAN_ERR_BUSOFF) >>> 0);
    assert.equal(f.len, 8);
    assert.equal(hex(packFrame(errorFrame(CAN_ERR_CRTL, [0, 0x20]))), "04000020080000000020000000000000");
  });
});

/**
 * Linux's receive path, as a second reading of af_can.c: each filter is registered into one of
 * the lists can_rcv_list_find() picks (rx_err, rx_inv, rx_all, rx_sff[id], rx_eff, rx_fil), and
 * can_rcv_filter() walks those lists. Used only to check FilterSet.
 */
function linuxDeliveries(filters: CanFilter[], errMask: number, frameId: number): number {
  type Entry = { list: string; id: number; mask: number };
  const entries: Entry[] = [];
  const register = (canId: number, mask: number) => {
    const inv = canId & CAN_INV_FILTER;
    if (mask & CAN_ERR_FLAG) return entries.push({ list: "err", id: canId, mask: (mask & CAN_ERR_MASK) >>> 0 });
    if (mask & CAN_EFF_FLAG && !(canId & CAN_EFF_FLAG)) mask = (mask & (CAN_SFF_MASK | CAN_EFF_FLAG | CAN_RTR_FLAG)) >>> 0;
    canId = (canId & mask) >>> 0;
    if (inv) return entries.push({ list: "inv", id: canId, mask });
    if (!mask) return entries.push({ list: "all", id: canId, mask });
    const effRtr = (CAN_EFF_FLAG | CAN_RTR_FLAG) >>> 0;
    if ((mask & effRtr) >>> 0 === effRtr && !(canId & CAN_RTR_FLAG)) {
      if (canId & CAN_EFF_FLAG) {
        if (mask === (CAN_EFF_MASK | effRtr) >>> 0) return entries.push({ list: "eff", id: canId, mask });
      } else if (mask === (CAN_SFF_MASK | effRtr) >>> 0) return entries.push({ list: "sff", id: canId, mask });
    }
    return entries.push({ list: "fil", id: canId, mask });
  };
  for (const f of filters) register(f.can_id >>> 0, f.can_mask >>> 0);
  if (errMask) register(0, (errMask | CAN_ERR_FLAG) >>> 0); // raw.c registers the error filter so
  let matches = 0;
  const id = frameId >>> 0;
  if (id & CAN_ERR_FLAG) {
    for (const e of entries) if (e.list === "err" && id & e.mask) matches++;
    return matches;
  }
  for (const e of entries) {
    if (e.list === "all") matches++;
    if (e.list === "fil" && (id & e.mask) >>> 0 === e.id) matches++;
    if (e.list === "inv" && (id & e.mask) >>> 0 !== e.id) matches++;
  }
  if (id & CAN_RTR_FLAG) return matches;
  for (const e of entries) {
    if (e.list === "eff" && id & CAN_EFF_FLAG && e.id === id) matches++;
    if (e.list === "sff" && !(id & CAN_EFF_FLAG) && e.id === (id & CAN_SFF_MASK)) matches++;
  }
  return matches;
}

const dataFrame = (id: number): CanFrame => ({ can_id: id >>> 0, len: 0, data: new Uint8Array(0) });

describe("CAN_RAW filters (Linux's rules)", () => {
  it("follows can.rst's examples", () => {
    const exact = new FilterSet([{ can_id: 0x123, can_mask: (CAN_SFF_MASK | CAN_EFF_FLAG | CAN_RTR_FLAG) >>> 0 }]);
    assert.equal(exact.passes(dataFrame(0x123)), true);
    assert.equal(exact.passes(dataFrame((0x123 | CAN_RTR_FLAG) >>> 0)), false, "RTR excluded by the mask's RTR bit");
    assert.equal(exact.passes(dataFrame((0x123 | CAN_EFF_FLAG) >>> 0)), false, "EFF 0x123 excluded");
    const loose = new FilterSet([{ can_id: 0x123, can_mask: CAN_SFF_MASK }]);
    assert.equal(loose.passes(dataFrame((0x123 | CAN_EFF_FLAG) >>> 0)), true, "without the EFF bit in the mask, EFF 0x123 passes too");
    const inverted = new FilterSet([{ can_id: (0x123 | CAN_INV_FILTER) >>> 0, can_mask: CAN_SFF_MASK }]);
    assert.equal(inverted.passes(dataFrame(0x123)), false);
    assert.equal(inverted.passes(dataFrame(0x124)), true);
    assert.equal(new FilterSet().passes(dataFrame(0x7ff)), true, "the default filter takes everything");
    assert.equal(new FilterSet([]).passes(dataFrame(0x7ff)), false, "no filters: no frames");
  });

  it("gives error frames only for the classes in CAN_RAW_ERR_FILTER", () => {
    const set = new FilterSet();
    const busOff = errorFrame(CAN_ERR_BUSOFF);
    assert.equal(set.passes(busOff), false, "no error frames by default");
    set.errMask = CAN_ERR_BUSOFF;
    assert.equal(set.passes(busOff), true);
    assert.equal(set.passes(errorFrame(CAN_ERR_CRTL)), false);
  });

  it("joins filters with CAN_RAW_JOIN_FILTERS", () => {
    const set = new FilterSet([
      { can_id: 0x100, can_mask: 0x700 },
      { can_id: 0x020, can_mask: 0x0f0 },
    ]);
    assert.equal(set.passes(dataFrame(0x105)), true);
    set.join = true;
    assert.equal(set.passes(dataFrame(0x105)), false);
    assert.equal(set.passes(dataFrame(0x125)), true);
  });

  it("delivers a frame once exactly when af_can's receive lists deliver it at least once", () => {
    const id32 = fc.oneof(
      fc.integer({ min: 0, max: CAN_SFF_MASK }),
      fc.integer({ min: 0, max: CAN_EFF_MASK }).map((i) => (i | CAN_EFF_FLAG) >>> 0),
      fc.constantFrom(0, CAN_EFF_FLAG, CAN_RTR_FLAG, CAN_ERR_FLAG, CAN_INV_FILTER, CAN_SFF_MASK, CAN_EFF_MASK),
      fc.integer({ min: 0, max: 0xffffffff }),
    );
    const mask = fc.oneof(
      fc.constantFrom(0, CAN_SFF_MASK, CAN_EFF_MASK, (CAN_SFF_MASK | CAN_EFF_FLAG | CAN_RTR_FLAG) >>> 0, (CAN_EFF_MASK | CAN_EFF_FLAG | CAN_RTR_FLAG) >>> 0, CAN_EFF_FLAG, CAN_RTR_FLAG),
      fc.integer({ min: 0, max: 0xffffffff }),
    );
    const frameId = fc.oneof(
      fc.integer({ min: 0, max: CAN_SFF_MASK }),
      fc.integer({ min: 0, max: CAN_SFF_MASK }).map((i) => (i | CAN_RTR_FLAG) >>> 0),
      fc.integer({ min: 0, max: CAN_EFF_MASK }).map((i) => (i | CAN_EFF_FLAG) >>> 0),
      fc.integer({ min: 0, max: CAN_EFF_MASK }).map((i) => (i | CAN_EFF_FLAG | CAN_RTR_FLAG) >>> 0),
      fc.integer({ min: 1, max: 0x3ff }).map((i) => (i | CAN_ERR_FLAG) >>> 0),
    );
    fc.assert(
      fc.property(fc.array(fc.record({ can_id: id32, can_mask: mask }), { maxLength: 4 }), fc.integer({ min: 0, max: 0x3ff }), frameId, (filters, errMask, id) => {
        const set = new FilterSet(filters);
        set.errMask = errMask;
        assert.equal(set.passes(dataFrame(id)), linuxDeliveries(filters, errMask, id) > 0);
      }),
      { numRuns: runs(2000) },
    );
  });
});
