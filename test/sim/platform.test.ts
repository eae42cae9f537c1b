// The platform modules the simulator gives the firmware: timers, Wi-Fi, DNS, sockets.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createSocket } from "node:dgram";
import { createConnection } from "node:net";
import { startSim, type SimBoard } from "xsock/sim";
import { have, needs } from "../helpers/sim.ts";

/** Sends bytes to a TCP echo server and collects as many back. */
function echoOverTcp(port: number, data: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const s = createConnection(port, "127.0.0.1", () => s.end(data));
    s.on("data", (d) => {
      chunks.push(d);
      got += d.length;
      if (got >= data.length) {
        s.destroy();
        resolve(Buffer.concat(chunks));
      }
    });
    s.on("error", reject);
    s.on("close", () => got < data.length && reject(new Error(`closed after ${got} of ${data.length} bytes`)));
  });
}

describe("platform modules", () => {
  it("ota: takes what ota.c's write takes, and fails each step as ota.c does (esp32/nodemcu)", async () => {
    const sim = await startSim({ app: "test/fixtures/ota" });
    try {
      await sim.waitLog(/ota: done/);
      const steps = [...sim.log.matchAll(/^ota: (.*)$/gm)].map((m) => m[1]);
      assert.deepEqual(steps, [
        "write string: TypeError invalid buffer",
        "write Uint16Array: TypeError invalid buffer",
        "write not an image: Error write failed",
        "write Uint8Array: ok",
        "write DataView: ok",
        "write ArrayBuffer: ok",
        "complete: Error end failed",
        "complete again: Error end failed",
        "cancel: ok",
        "write after cancel: Error write failed",
        "complete after cancel: Error bad state",
        "prototype frozen: ok",
        "done",
      ]);
    } finally {
      await sim.stop();
    }
  });

  it("runs timers, Wi-Fi, DNS and the socket limit as the board would", async () => {
    const sim = await startSim({ app: "test/fixtures/platform", config: { sockets: 11 } });
    try {
      await sim.waitLog(/resolve: localhost 127\.0\.0\.1/);
      const log = sim.log;
      assert.match(log, /delay: (3\d|4\d) ms/);
      assert.match(log, /timer: one-shot fired/);
      assert.match(log, /scan: xsock-sim -40\nscan: done/);
      assert.match(log, /wifi: connect\n(.*\n)*wifi: gotIP/);
      assert.match(log, /net: IP 127\.0\.0\.1 SSID xsock-sim/);
      assert.match(log, /sockets: opened 10, then no free socket: esp32\/nodemcu has 10 errno 24/);
      const ticks = Number((await sim.waitLog(/timer: 3 ticks of 20 ms in (\d+) ms/))[1]);
      assert.ok(ticks >= 60 && ticks < 400, `3 ticks took ${ticks} ms`);
    } finally {
      await sim.stop();
    }
  });

  it("refuses a wrong Wi-Fi password and an unknown SSID", async () => {
    for (const [ssid, password] of [["xsock-lab", "wrong-password"], ["elsewhere", "secret123"]]) {
      const sim = await startSim({ app: "test/fixtures/platform", config: { ssid, password }, aps: ["xsock-lab:secret123"] });
      try {
        await sim.waitLog(/wifi: disconnect/);
        assert.doesNotMatch(sim.log, /gotIP/);
      } finally {
        await sim.stop();
      }
    }
  });

  describe("examples/tcp-echo (ECMA-419 listener and TCP)", () => {
    let sim: SimBoard;
    let port: number;
    before(async () => {
      sim = await startSim({ app: "examples/tcp-echo", config: { port: 0 } });
      port = Number((await sim.waitLog(/listening on (\d+)/))[1]);
    });
    after(() => sim?.stop());
    afterEach(function () {
      if (this.currentTest?.state === "failed") console.log(sim.log.slice(-3000));
    });

    it("echoes 256 KiB through the send buffer's backpressure, byte for byte", async () => {
      const data = randomBytes(256 * 1024);
      assert.ok((await echoOverTcp(port, data)).equals(data));
    });

    it("serves three clients at once", async () => {
      const sends = [1, 2, 3].map((n) => randomBytes(20000 * n));
      const backs = await Promise.all(sends.map((d) => echoOverTcp(port, d)));
      backs.forEach((b, i) => assert.ok(b.equals(sends[i]), `client ${i}`));
    });

    it("echoes to netcat", async function () {
      needs(this, "nc (netcat-openbsd)", have("nc"));
      const nc = spawn("nc", ["-N", "127.0.0.1", String(port)]);
      let out = "";
      nc.stdout.on("data", (d: Buffer) => (out += d.toString()));
      nc.stdin.end("hello from nc\n");
      await new Promise((resolve) => nc.on("exit", resolve));
      assert.equal(out, "hello from nc\n");
    });
  });

  describe("examples/udp-echo (ECMA-419 UDP)", () => {
    it("sends each datagram back to its sender", async () => {
      // A port the OS has free: Moddable's UDP socket cannot say which one port 0 gave it.
      const probe = createSocket("udp4");
      await new Promise<void>((resolve) => probe.bind(0, "127.0.0.1", resolve));
      const free = probe.address().port;
      await new Promise<void>((resolve) => probe.close(() => resolve()));
      const sim = await startSim({ app: "examples/udp-echo", config: { port: free } });
      const client = createSocket("udp4");
      try {
        const port = Number((await sim.waitLog(/listening on (\d+)/))[1]);
        assert.equal(port, free);
        const replies: string[] = [];
        const all = new Promise<void>((resolve) =>
          client.on("message", (m) => {
            replies.push(m.toString());
            if (replies.length === 3) resolve();
          }),
        );
        for (const text of ["one", "two", "three"]) client.send(text, port, "127.0.0.1");
        await all;
        assert.deepEqual(replies.sort(), ["one", "three", "two"]);
      } finally {
        client.close();
        await sim.stop();
      }
    });
  });
});
