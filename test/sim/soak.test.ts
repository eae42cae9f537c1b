// The soak workloads of bench/soak.ts, short: every byte checked, no link, socket or heap left behind.
import assert from "node:assert/strict";
import { chat, churn, links, report } from "../../bench/soak.ts";
import { runAddress } from "../helpers/ports.ts";

describe("soak, short (npm run soak runs the long one)", function () {
  this.timeout(60000);

  it("moves 256 KiB each way on each of 5 links at once, byte for byte", async () => {
    const f = await links(256 * 1024);
    assert.deepEqual([f.lost, f.errors, f.sockets], [0, [], 0], report(f));
    assert.equal(f.bytes, 10 * 256 * 1024);
    assert.ok(f.heapAfter - f.heapBefore < 150, report(f));
  });

  it("serves 200 accept/close cycles with CIPSERVER and ends with no links, one socket, and its heap", async () => {
    const f = await churn(200);
    assert.deepEqual([f.lost, f.errors, f.connects, f.closes, f.linksLeft, f.socketsAfter], [0, [], 200, 200, 0, f.socketsBefore], report(f));
    assert.ok(f.heapAfter - f.heapBefore < 150, report(f));
  });

  it("relays every chat message to every other client, in order per sender (8 clients x 20)", async () => {
    const f = await chat(8, 20, runAddress());
    assert.deepEqual([f.lost, f.outOfOrder, f.errors], [0, 0, []], report(f));
    assert.equal(f.deliveries, 8 * 7 * 20);
  });
});
