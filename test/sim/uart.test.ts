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

describe("the console UART reconfigured under a host that does not wait", function () {
  this.timeout(120000);

  it("answers every command sent the moment AT+UART_CUR's OK arrives, 200 rounds", async () => {
    const sim = await startSim();
    const uart = await UartClient.open(sim.uart);
    try {
      await uart.expect("ready\r\n");
      assert.equal(await uart.command("ATE0"), "ATE0\r\n\r\nOK\r\n");
      for (let round = 0; round < 200; round++) {
        assert.equal(await uart.command("AT+UART_CUR?"), "+UART_CUR:115200,8,1,0,3\r\n\r\nOK\r\n".replace(",3", round ? ",3" : ",0"), `round ${round}`);
        assert.equal(await uart.command("AT+UART_CUR=115200,8,1,0,3"), "\r\nOK\r\n", `round ${round}`);
        assert.equal(await uart.command("AT+UART_CUR?"), "+UART_CUR:115200,8,1,0,3\r\n\r\nOK\r\n", `round ${round}: the command right after the OK`);
      }
    } finally {
      await uart.close();
      await sim.stop();
    }
  });

  it("changes the baud before it reads the next command, as ESP-AT does: 50 rounds to 921600 and back, each OK followed at once by a query", async () => {
    const sim = await startSim();
    const uart = await UartClient.open(sim.uart);
    // The host's own side, once the OK has come; serialport flushes the tty as it changes it.
    const hostBaud = (baudRate: number) => new Promise<void>((resolve, reject) => uart.port.update({ baudRate }, (e) => (e ? reject(e) : resolve())));
    try {
      await uart.expect("ready\r\n");
      assert.equal(await uart.command("ATE0"), "ATE0\r\n\r\nOK\r\n");
      for (let round = 0; round < 50; round++) {
        for (const baud of [921600, 115200]) {
          assert.equal(await uart.command(`AT+UART_CUR=${baud},8,1,0,0`), "\r\nOK\r\n", `round ${round}`);
          await hostBaud(baud);
          assert.equal(await uart.command("AT+UART_CUR?"), `+UART_CUR:${baud},8,1,0,0\r\n\r\nOK\r\n`, `round ${round}: the query sent right after the OK`);
        }
      }
    } finally {
      await uart.close();
      await sim.stop();
    }
  });

  it("answers the command that comes in the same write as a baud change, before or after the reopen", async () => {
    const sim = await startSim();
    const uart = await UartClient.open(sim.uart);
    try {
      await uart.expect("ready\r\n");
      const set = new Set([115200]);
      for (const baud of [921600, 115200, 460800, 115200]) {
        set.add(baud);
        // The query may be read before the port reopens (it sees the old baud) or after: either way it is answered.
        await uart.write(`AT+UART_CUR=${baud},8,1,0,0\r\nAT+UART_CUR?\r\n`);
        const reply = await uart.expect(/UART_CUR:\d+,8,1,0,0\r\n\r\nOK\r\n/, 10000);
        const m = new RegExp(`^AT\\+UART_CUR=${baud},8,1,0,0\r\n\r\nOK\r\nAT\\+UART_CUR\\?\r\n\\+UART_CUR:(\\d+),8,1,0,0\r\n\r\nOK\r\n$`).exec(reply);
        assert.ok(m && set.has(Number(m[1])), reply);
      }
    } finally {
      await uart.close();
      await sim.stop();
    }
  });
});
