// The MQTT 3.1.1 packets the console's MQTT client sends, and the reader of the broker's stream.
import assert from "node:assert/strict";
import fc from "fast-check";
import { importFirmware } from "../helpers/firmware-module.ts";
import { runs } from "../helpers/fuzz.ts";

// src/mqtt/packets.ts, as the firmware bundles it (its imports are firmware modules).
type QoS = 0 | 1 | 2;
interface Publish {
  topic: string;
  payload: Uint8Array;
  qos: QoS;
  retain: boolean;
  dup: boolean;
  id: number;
}
interface Packet {
  type: number;
  flags: number;
  body: Uint8Array;
}
interface Packets {
  PacketType: Record<"PUBLISH" | "PUBREL", number>;
  connect(o: { clientId: string; username?: string; password?: string; keepalive: number; clean: boolean; will?: { topic: string; message: Uint8Array; qos: QoS; retain: boolean } }): Uint8Array;
  publish(p: Publish): Uint8Array;
  ack(type: number, id: number): Uint8Array;
  subscribe(id: number, topic: string, qos: QoS): Uint8Array;
  unsubscribe(id: number, topic: string): Uint8Array;
  readPublish(p: Packet): Publish;
  PacketReader: new () => { push(bytes: Uint8Array): Packet[] };
}
let P: Packets;

// Moddable's String.fromArrayBuffer, which the firmware has on the board and in the simulator.
const S = String as unknown as { fromArrayBuffer?: (b: ArrayBuffer) => string };
S.fromArrayBuffer ??= (b) => Buffer.from(b).toString();

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

describe("MQTT 3.1.1 packets", () => {
  before(async () => void (P = await importFirmware<Packets>(`export * from "xsock/mqtt-packets";`)));

  it("CONNECT as the spec's layout: protocol name, level 4, flags, keep-alive, then id, will, user, password", () => {
    const bytes = P.connect({ clientId: "id", username: "u", password: "p", keepalive: 120, clean: true, will: { topic: "w", message: Buffer.from("x"), qos: 1, retain: true } });
    // flags: user 0x80 | password 0x40 | will retain 0x20 | will QoS 1 (0x08) | will 0x04 | clean 0x02
    assert.equal(hex(bytes), "101a" + "00044d515454" + "04" + "ee" + "0078" + "00026964" + "000177" + "000178" + "000175" + "000170");
  });

  it("PUBLISH with and without a packet id; PUBREL with its 0b0010 flags; SUBSCRIBE and UNSUBSCRIBE", () => {
    assert.equal(hex(P.publish({ topic: "a/b", payload: Buffer.from("hi"), qos: 0, retain: false, dup: false, id: 0 })), "3007" + "0003612f62" + "6869");
    assert.equal(hex(P.publish({ topic: "t", payload: Buffer.from("x"), qos: 2, retain: true, dup: true, id: 10 })), "3d06" + "000174" + "000a" + "78");
    assert.equal(hex(P.ack(P.PacketType.PUBREL, 0x1234)), "62021234");
    assert.equal(hex(P.subscribe(1, "t", 1)), "8206" + "0001" + "000174" + "01");
    assert.equal(hex(P.unsubscribe(2, "t")), "a205" + "0002" + "000174");
  });

  it("writes Remaining Length in up to four bytes (the spec's boundaries)", () => {
    const lengthBytes = (n: number) => P.publish({ topic: "", payload: new Uint8Array(n - 2), qos: 0, retain: false, dup: false, id: 0 }).length - n - 1;
    assert.equal(lengthBytes(127), 1);
    assert.equal(lengthBytes(128), 2);
    assert.equal(lengthBytes(16383), 2);
    assert.equal(lengthBytes(16384), 3);
  });

  it("reads packets split anywhere and run together, and PUBLISH's fields", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ topic: fc.string({ maxLength: 40 }), payload: fc.uint8Array({ maxLength: 300 }), qos: fc.constantFrom<QoS>(0, 1, 2), retain: fc.boolean(), id: fc.integer({ min: 1, max: 65535 }) }), { maxLength: 6 }),
        fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 20 }),
        (messages, cuts) => {
          const wire = Buffer.concat(messages.map((m) => P.publish({ ...m, dup: false, id: m.qos ? m.id : 0 })));
          const reader = new P.PacketReader();
          const got: Publish[] = [];
          let at = 0;
          for (let i = 0; at < wire.length; i++) {
            const size = cuts[i % cuts.length];
            for (const packet of reader.push(wire.subarray(at, at + size))) got.push(P.readPublish(packet));
            at += size;
          }
          assert.equal(got.length, messages.length);
          got.forEach((g, i) => {
            const m = messages[i];
            assert.equal(g.topic, Buffer.from(m.topic).toString());
            assert.deepEqual(Buffer.from(g.payload), Buffer.from(m.payload));
            assert.equal(g.qos, m.qos);
            assert.equal(g.retain, m.retain);
            assert.equal(g.id, m.qos ? m.id : 0);
          });
        },
      ),
      { numRuns: runs(300) },
    );
  });

  it("garbage from a broker throws only the reader's own errors, never a crash", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const reader = new P.PacketReader();
        try {
          for (const packet of reader.push(bytes)) if (packet.type === P.PacketType.PUBLISH) P.readPublish(packet);
        } catch (e) {
          assert.match((e as Error).message, /^malformed /);
        }
      }),
      { numRuns: runs(1000) },
    );
  });
});
