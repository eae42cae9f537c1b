// Every method, timeout mode, error and address form of xsock/socket, run on XS in the
// simulator (test/fixtures/socket-api), against loopback peers and a python3 peer that resets.
import assert from "node:assert/strict";
import { tlsEchoServer } from "../helpers/tls.ts";
import { startSim } from "xsock/sim";
import { python } from "../helpers/python.ts";

describe("xsock/socket on the simulated board", function () {
  this.timeout(30000);

  it("passes every check of the socket API", async () => {
    const resetter = python(`
import socket, struct, time
srv = socket.socket()
srv.bind(('127.0.0.1', 0))
srv.listen(5)
print('port', srv.getsockname()[1])
# A listener whose queue one connection fills: connects to it go unanswered.
full = socket.socket()
full.bind(('127.0.0.1', 0))
full.listen(0)
filler = socket.create_connection(full.getsockname())
print('blackhole', full.getsockname()[1])
while True:
    c, _ = srv.accept()
    time.sleep(0.2)  # reset an established connection, not a connect in progress
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
    c.close()
`, [], 60000);
    const port = (await resetter.line(/port (\d+)/))[1];
    const blackhole = (await resetter.line(/blackhole (\d+)/))[1];
    const tls = await tlsEchoServer();
    const sim = await startSim({ app: "test/fixtures/socket-api", config: { resetPort: Number(port), blackholePort: Number(blackhole), tlsPort: tls.port } });
    try {
      const [, passed, failed] = await sim.waitLog(/checks: (\d+) passed, (\d+) failed/, { timeout: 25000 });
      const failures = sim.log.split("\n").filter((l) => l.startsWith("FAIL"));
      assert.deepEqual(failures, []);
      assert.equal(Number(failed), 0);
      assert.equal(Number(passed), 29);
      for (const name of ["TLS", "timeout > 0", "timeout 0", "timeout null", "connect times out", "ECONNREFUSED", "ECONNRESET", "EADDRINUSE", "EMFILE", "select", "poll", "getaddrinfo", "IPv6"])
        assert.match(sim.log, new RegExp(`^ok ${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`, "m"), name);
    } finally {
      await sim.stop();
      resetter.kill();
      tls.server.close();
    }
  });
});

describe("xsock/socket under load", function () {
  this.timeout(30000);

  it("loses no byte of 4 MB sent at once, on two connections together", async () => {
    const sim = await startSim({ app: "bench/apps/bulk", config: { mode: "sink" } });
    try {
      const port = Number((await sim.waitLog(/bulk sink on (\d+)/))[1]);
      const out = await python(`
import socket, sys, threading
counts = []
def upload():
    s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
    s.sendall(bytes(range(256)) * 16384)
    s.shutdown(socket.SHUT_WR)
    reply = b''
    while not reply.endswith(b'\\n'):
        reply += s.recv(100)
    counts.append(int(reply))
threads = [threading.Thread(target=upload) for _ in range(2)]
for t in threads: t.start()
for t in threads: t.join()
print(counts)
`, [String(port)]).done;
      assert.equal(out.trim(), "[4194304, 4194304]");
    } finally {
      await sim.stop();
    }
  });
});
