// The simulator's byte queues (TCP and UART receive, the UART's pacer): bytes come out in order,
// as many as asked, and a take copies only what it takes.
import assert from "node:assert/strict";
import fc from "fast-check";
import { runs } from "../helpers/fuzz.ts";
import { ByteQueue } from "../../host-sim/byte-queue.ts";

describe("ByteQueue", () => {
  it("gives back the bytes pushed, in order, as many as each take asks", () => {
    const step = fc.oneof(fc.record({ push: fc.uint8Array({ maxLength: 40 }) }), fc.record({ take: fc.oneof(fc.nat(60), fc.constant(Infinity)) }));
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), (steps) => {
        const queue = new ByteQueue();
        const model: number[] = [];
        for (const s of steps) {
          if ("push" in s) {
            queue.push(Buffer.from(s.push));
            model.push(...s.push);
          } else {
            const want = model.splice(0, Math.min(model.length, s.take));
            const got = queue.take(s.take);
            if (got === null) assert.equal(want.length + model.length, 0, "null only when empty");
            else assert.deepEqual([...got], want);
          }
          assert.equal(queue.length, model.length);
        }
      }),
      { numRuns: runs(500) },
    );
  });

  it("copies only the bytes a take takes: what stays is the pushed chunks themselves", () => {
    const queue = new ByteQueue();
    const big = Buffer.alloc(1024 * 1024, 0x62);
    queue.push(Buffer.from("abcd"));
    queue.push(big);
    assert.equal(queue.take(6)!.toString(), "abcdbb");
    const rest = queue.take(Infinity)!;
    assert.equal(rest.length, big.length - 2);
    assert.equal(rest.buffer, big.buffer, "the rest of the big chunk was not copied");
  });
});
