// The socket module's examples, each in the simulator and driven by an outside client:
// python3 written like the seeds, nc and socat.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { startSim, type SimBoard, type StartOptions } from "xsock/sim";
import { have, needs } from "../helpers/sim.ts";
import { python } from "../helpers/python.ts";
import { freePort, runAddress } from "../helpers/ports.ts";
import { hasPythonCan, pythonCan, testBus } from "../helpers/python-can.ts";
import { UartClient } from "../helpers/uart.ts";

async function withSim(app: string, config: Record<string, unknown>, run: (sim: SimBoard) => Promise<void>, options: StartOptions = {}): Promise<void> {
  const sim = await startSim({ app, config, ...options });
  try {
    await run(sim);
  } catch (e) {
    throw new Error(`${(e as Error).message}\n--- simulator log ---\n${sim.log}`, { cause: e });
  } finally {
    await sim.stop();
  }
}

/** Runs a command with stdin text; resolves with its stdout. */
function run(cmd: string, args: string[], input: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args);
    let out = "";
    p.stdout.on("data", (d: Buffer) => (out += d.toString()));
    p.on("error", reject);
    p.on("exit", () => resolve(out));
    p.stdin.end(input);
  });
}

/**
 * The board's address for the examples whose port is fixed in their code (udp-echo-server's
 * 8888, chat-server's 5000, framed-server's 8000): this run's own, so that another run's board
 * on the same port does not meet it. The clients still come from 127.0.0.1.
 */
const BOARD_IP = runAddress();

/** Starts socat with ARGS and resolves once it listens (it says so at -d -d). */
function socat(args: string[]): Promise<ChildProcess> {
  const server = spawn("socat", ["-d", "-d", ...args], { stdio: ["ignore", "ignore", "pipe"] });
  let said = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (server.kill(), reject(new Error(`socat did not listen within 15 s: ${said}`))), 15000);
    server.stderr.on("data", (d: Buffer) => {
      said += d.toString();
      if (/listening on/.test(said)) {
        clearTimeout(timer);
        resolve(server);
      }
    });
    server.on("exit", (code) => (clearTimeout(timer), reject(new Error(`socat exited (${code}): ${said}`))));
  });
}

describe("socket examples", function () {
  this.timeout(30000);

  it("tcp-echo-server answers the seed's client over IPv6 and IPv4, several at once", async () => {
    // A port the OS says is free on both of the server's listeners: [::] (IPv6 only) and 0.0.0.0.
    const port = await freePort(["0.0.0.0", "::"]);
    await withSim("examples/tcp-echo-server", { port }, async (sim) => {
      await sim.waitLog(new RegExp(`listening on \\[0\\.0\\.0\\.0\\]:${port}`));
      const client = `
import socket, sys, time
af, socktype, proto, _, sa = socket.getaddrinfo(sys.argv[1], int(sys.argv[2]), socket.AF_UNSPEC, socket.SOCK_STREAM)[0]
s = socket.socket(af, socktype, proto)
s.connect(sa)
time.sleep(0.3)  # the clients overlap
for data in [b'Hello, world', '汉语/漢語 Hànyǔ'.encode()]:
    s.sendall(data)
    print('Received', s.recv(1024).decode())
s.close()
`;
      const runs = ["::1", "127.0.0.1", "::1", "127.0.0.1"].map((host) => python(client, [host, String(port)]).done);
      for (const out of await Promise.all(runs)) assert.equal(out, "Received Hello, world\nReceived 汉语/漢語 Hànyǔ\n");
      assert.match(sim.log, /Connected by \[::1\]:\d+/);
      assert.match(sim.log, /Connected by \[127\.0\.0\.1\]:\d+/);
    });
  });

  it("tcp-echo-server echoes to nc", async function () {
    needs(this, "nc (netcat-openbsd)", have("nc"));
    const port = await freePort(["0.0.0.0", "::"]);
    await withSim("examples/tcp-echo-server", { port }, async (sim) => {
      await sim.waitLog(new RegExp(`listening on \\[0\\.0\\.0\\.0\\]:${port}`));
      assert.equal(await run("nc", ["-N", "127.0.0.1", String(port)], "one line\n"), "one line\n");
    });
  });

  it("tcp-echo-client sends the seed's two messages to a socat echo server", async function () {
    needs(this, "socat", have("socat"));
    // socat's IPv6 listener takes IPv4 too (IPV6_V6ONLY off): a port free on both.
    const port = await freePort(["0.0.0.0", "::"]);
    const server = await socat([`TCP6-LISTEN:${port},reuseaddr,fork`, "EXEC:cat"]);
    try {
      await withSim("examples/tcp-echo-client", { host: "localhost", port }, async (sim) => {
        await sim.waitLog(/echo client: done/);
        assert.match(sim.log, /Received Hello, world\nReceived 汉语\/漢語 Hànyǔ\necho client: done/);
      });
    } finally {
      server.kill();
    }
  });

  it("udp-echo-server replies OK... to nc -u and to the seed's client", async function () {
    await withSim("examples/udp-echo-server", {}, async (sim) => {
      await sim.waitLog(/waiting on port 8888/);
      const out = await python(`
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(10)
for msg in [b'Hello', b'How are you?']:
    s.sendto(msg, (sys.argv[1], 8888))
    d = s.recvfrom(1024)
    print('Server reply : ' + d[0].decode())
`, [BOARD_IP]).done;
      assert.equal(out, "Server reply : OK...Hello\nServer reply : OK...How are you?\n");
      needs(this, "nc (netcat-openbsd)", have("nc"));
      // nc -u waits -w seconds for replies before it quits: room for a loaded machine.
      assert.equal(await run("nc", ["-u", "-w3", BOARD_IP, "8888"], "X"), "OK...X");
    }, { ip: BOARD_IP });
  });

  it("udp-client sends each line typed on the console and prints the reply", async () => {
    const server = python(`
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('127.0.0.1', 0))
print('port', s.getsockname()[1])
while True:
    data, addr = s.recvfrom(1024)
    s.sendto(b'OK...' + data, addr)
`);
    try {
      const port = (await server.line(/port (\d+)/))[1];
      await withSim("examples/udp-client", { host: "127.0.0.1", port: Number(port) }, async (sim) => {
        const uart = await UartClient.open(sim.uart.path);
        try {
          await uart.expect("Enter message to send : ");
          await uart.write("Hello\r\n");
          assert.equal(await uart.expect(/Enter message to send : /), "Server reply : OK...Hello\r\nEnter message to send : ");
          await uart.write("How are you\r\n");
          assert.equal(await uart.expect(/Enter message to send : /), "Server reply : OK...How are you\r\nEnter message to send : ");
        } finally {
          await uart.close();
        }
      }, { uart: "pty" });
    } finally {
      server.kill();
    }
  });

  it("telnet-client bridges the console to a TCP server", async () => {
    const server = python(`
import socket
srv = socket.socket()
srv.bind(('127.0.0.1', 0))
srv.listen(1)
print('port', srv.getsockname()[1])
conn, _ = srv.accept()
conn.sendall(b'welcome\\r\\n')
data = b''
while not data.endswith(b'\\n'):
    data += conn.recv(100)
print('heard', data.decode().strip())
conn.sendall(data.upper())
conn.close()
`);
    const port = (await server.line(/port (\d+)/))[1];
    await withSim("examples/telnet-client", { host: "127.0.0.1", port: Number(port) }, async (sim) => {
      const uart = await UartClient.open(sim.uart.path);
      try {
        await uart.expect("Connected to remote host\r\nwelcome\r\n");
        await uart.write("get /index\r\n");
        await uart.expect("GET /INDEX\r\n");
        await uart.expect("Connection closed\r\n");
        assert.match(await server.done, /heard get \/index/);
      } finally {
        await uart.close();
      }
    }, { uart: "pty" });
  });

  it("chat-server announces, relays, and drops a broken client without disturbing the rest", () =>
    withSim("examples/chat-server", {}, async (sim) => {
      await sim.waitLog(/Chat server started on port 5000/);
      const chat = python(`
import json, socket, struct, sys, time
def client():
    s = socket.create_connection((sys.argv[1], 5000))
    s.settimeout(10)
    return s
def read(s, text):
    got = b''
    while text.encode() not in got:
        got += s.recv(4096)
    return got.decode()
a = client(); time.sleep(0.2)
b = client(); pb = b.getsockname()[1]
print('a1', json.dumps(read(a, 'entered room')))
c = client(); pc = c.getsockname()[1]
read(a, 'entered room'); read(b, 'entered room')
b.sendall(b'hi from b\\n')
print('a2', json.dumps(read(a, 'hi from b')))
print('c2', json.dumps(read(c, 'hi from b')))
# c breaks: a reset, not a goodbye
c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
c.close()
print('a3', json.dumps(read(a, 'is offline')))
a.sendall(b'still here\\n')
print('b3', json.dumps(read(b, 'still here')))
print('ports', pb, pc)
`, [BOARD_IP]);
      const out = await chat.done;
      const [, pb, pc] = /ports (\d+) (\d+)/.exec(out)!;
      const said = (who: string) => JSON.parse(new RegExp(`^${who} (.*)$`, "m").exec(out)![1]) as string;
      assert.equal(said("a1"), `[127.0.0.1:${pb}] entered room\n`);
      assert.equal(said("a2"), `\r<('127.0.0.1', ${pb})> hi from b\n`);
      assert.equal(said("c2"), `\r<('127.0.0.1', ${pb})> hi from b\n`);
      assert.equal(said("a3"), `Client (127.0.0.1, ${pc}) is offline\n`);
      assert.match(said("b3"), new RegExp(`Client \\(127\\.0\\.0\\.1, ${pc}\\) is offline\\n\\r<\\('127\\.0\\.0\\.1', \\d+\\)> still here\\n$`));
    }, { ip: BOARD_IP }));

  it("ping gets echo replies over a raw ICMP socket", async function () {
    needs(this, "root, for raw sockets", process.getuid?.() === 0);
    await withSim("examples/ping", { host: "127.0.0.1", count: 3 }, async (sim) => {
      await sim.waitLog(/3 packets transmitted, (\d+) received/);
      assert.match(sim.log, /3 packets transmitted, 3 received/);
      for (const seq of [1, 2, 3]) assert.match(sim.log, new RegExp(`64 bytes from 127\\.0\\.0\\.1: icmp_seq=${seq} ttl=64 time=\\d+ ms`));
    });
  });

  it("framed-server answers each framed message, and refuses a bad header", () =>
    withSim("examples/framed-server", {}, async (sim) => {
      await sim.waitLog(/listening on 8000/);
      const out = await python(`
import socket, sys
def frame(payload):
    d = 1
    while len(str(len(payload) + 1 + d)) != d: d += 1
    return str(len(payload) + 1 + d).encode() + b'_' + payload
s = socket.create_connection((sys.argv[1], 8000))
s.settimeout(10)
s.sendall(frame('héllo'.encode()) + frame(b'x' * 200))
got = b''
while got.count(b'_') < 2:
    got += s.recv(1024)
print(got.decode())
bad = socket.create_connection((sys.argv[1], 8000))
bad.settimeout(10)
bad.sendall(b'07_hello')
print('bad', bad.recv(100))
`, [BOARD_IP]).done;
      assert.equal(out, "37_Server notification: data received37_Server notification: data received\nbad b''\n");
      await sim.waitLog(/framed: .* sent 6 bytes: héllo/);
      await sim.waitLog(/framed: .* sent 200 bytes/);
      await sim.waitLog(/bad frame header: a leading zero/);
    }, { ip: BOARD_IP }));

  it("candump prints what python-can sends on the bus, in can-utils' format, through candump-style filters", async function () {
    if (!hasPythonCan) this.skip();
    const bus = await testBus();
    await withSim(
      "examples/candump",
      { filters: "100:700,18FF0000:1FFF0000" },
      async (sim) => {
        await sim.waitLog(/candump: listening on can0/);
        await pythonCan(
          `
import can, sys
bus = can.Bus(interface='udp_multicast', channel=sys.argv[1], port=int(sys.argv[2]))
for m in [can.Message(arbitration_id=0x123, is_extended_id=False, data=[0x11, 0x22, 0x33]),
          can.Message(arbitration_id=0x223, is_extended_id=False, data=[1]),
          can.Message(arbitration_id=0x18FF1234, data=[0xAB, 0xCD]),
          can.Message(arbitration_id=0x1F0, is_extended_id=False, is_remote_frame=True, dlc=2)]:
    bus.send(m)
bus.shutdown()
`,
          [bus.group, String(bus.port)],
        ).done;
        await sim.waitLog(/remote request/);
        const lines = sim.log.split("\n").filter((l) => l.startsWith("  can0"));
        assert.deepEqual(lines, ["  can0  123   [3]  11 22 33", "  can0  18FF1234   [2]  AB CD", "  can0  1F0   [2]  remote request"]);
        sim.fault("can-bus-off");
        await sim.waitLog(/ {2}can0 {2}20000240 {3}\[8\]/);
      },
      { can: bus.spec },
    );
  });
});

