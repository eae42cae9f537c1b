// The simulated UART's other ends: a TCP port, a paced line, and pyserial.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createConnection } from "node:net";
import { needs, startSim } from "../helpers/sim.ts";
import { UartClient } from "../helpers/uart.ts";

/** Debian's python3, where python3-serial installs pyserial. */
const PYTHON = "/usr/bin/python3";
const hasPyserial = () => spawnSync(PYTHON, ["-c", "import serial"]).status === 0;

describe("the simulated UART", () => {
  it("serves the console on a TCP port with --uart tcp:0", async () => {
    const sim = await startSim([], "tcp:0");
    try {
      const port = Number(sim.uart.slice(4));
      const s = createConnection(port, "127.0.0.1");
      let text = "";
      await new Promise<void>((resolve) =>
        s.on("data", (d) => {
          text += d.toString();
          if (text.includes("ready\r\n") && !text.includes("AT\r\n")) s.write("AT\r\n");
          if (text.endsWith("OK\r\n")) resolve();
        }),
      );
      s.destroy();
      assert.equal(text, "\r\nready\r\nAT\r\n\r\nOK\r\n");
    } finally {
      await sim.stop();
    }
  });

  it("paces the line at --baud, 10 bits a byte", async () => {
    const sim = await startSim(["--baud", "9600"]);
    const uart = await UartClient.open(sim.uart, 9600);
    try {
      await uart.expect("ready\r\n");
      const start = performance.now();
      const reply = await uart.command("AT+GMR");
      const elapsed = performance.now() - start;
      // The command goes out and its echo and reply come back, all at 960 bytes/s.
      const wire = ((reply.length + "AT+GMR\r\n".length) * 10 * 1000) / 9600;
      assert.ok(elapsed >= wire * 0.9, `${reply.length} bytes took ${elapsed.toFixed(0)} ms; the wire needs ${wire.toFixed(0)} ms`);
      assert.ok(elapsed < wire * 2 + 200, `${elapsed.toFixed(0)} ms is far slower than the wire's ${wire.toFixed(0)} ms`);
    } finally {
      await uart.close();
      await sim.stop();
    }
  });

  it("talks to pyserial", async function () {
    needs(this, "pyserial (python3-serial)", hasPyserial());
    const sim = await startSim();
    try {
      const script = [
        "import serial, sys",
        "s = serial.Serial(sys.argv[1], 115200, timeout=3)",
        "print(repr(s.read_until(b'ready\\r\\n')))",
        "s.write(b'AT\\r\\n')",
        "print(repr(s.read_until(b'OK\\r\\n')))",
      ].join("\n");
      const out = spawnSync(PYTHON, ["-c", script, sim.uart], { encoding: "utf8", timeout: 10000 });
      assert.equal(out.status, 0, out.stderr);
      assert.equal(out.stdout, "b'\\r\\nready\\r\\n'\nb'AT\\r\\n\\r\\nOK\\r\\n'\n");
    } finally {
      await sim.stop();
    }
  });
});
