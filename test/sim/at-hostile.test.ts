// Hostile input and faults the console must weather: commands hidden in link data, a peer's
// reset, a name that does not resolve, a port in use, too many clients, a restart with links
// open, and secrets.
import assert from "node:assert/strict";
import { connect } from "node:net";
import { tcpPeer } from "../helpers/peer.ts";
import { freePort } from "../helpers/ports.ts";
import { python } from "../helpers/python.ts";
import { PEER_HOST } from "../helpers/target.ts";
import { JOINED, until, withConsole } from "../helpers/console.ts";

describe("console under hostile input and faults", function () {
  this.timeout(20000);
  // Simulator options: the suite is the simulator's own (it injects faults and reads the log).
  const session = withConsole({ sim: {} });

  it("never runs a command that arrives as link data", async () => {
    const { uart } = session;
    const peer = await tcpPeer();
    try {
      assert.match(await uart.command(`AT+CIPSTART="TCP","${PEER_HOST}",${peer.port}`), /CONNECT\r\n\r\nOK\r\n$/);
      const attack = "\r\nAT+RST\r\nAT+CWQAP\r\nAT+RESTORE\r\n+++";
      peer.conns[0].write(attack);
      assert.equal(await uart.expect(`+IPD,${attack.length}:${attack}`), `\r\n+IPD,${attack.length}:${attack}`);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(uart.pending, "", "nothing ran: no reset, no WIFI DISCONNECT");
      // The console answers in order: a reset or a WIFI DISCONNECT would come before this reply.
      assert.match(await uart.command("AT+CWSTATE?"), /^\+CWSTATE:2,"xsock-sim"/, "nothing ran: no reset, no WIFI DISCONNECT");
    } finally {
      peer.server.close();
    }
  });

  it("closes only the link whose peer resets; the others carry on", async () => {
    const { uart } = session;
    const a = await tcpPeer();
    const b = await tcpPeer();
    try {
      await uart.command("AT+CIPMUX=1");
      await uart.command(`AT+CIPSTART=0,"TCP","${PEER_HOST}",${a.port}`);
      await uart.command(`AT+CIPSTART=1,"TCP","${PEER_HOST}",${b.port}`);
      await until(() => a.conns.length === 1 && b.conns.length === 1, "both peers connected");
      a.conns[0].write("x".repeat(3000));
      a.conns[0].resetAndDestroy();
      await uart.expect("0,CLOSED\r\n");
      await uart.write("AT+CIPSEND=1,4\r\n");
      assert.equal(await uart.expect(">"), "\r\nOK\r\n\r\n>");
      await uart.write("live");
      await uart.expect("SEND OK\r\n");
      await until(() => b.heard().toString() === "live", "link 1's data");
      b.conns[0].write("back");
      await uart.expect("+IPD,1,4:back");
    } finally {
      a.server.close();
      b.server.close();
    }
  });

  it("answers ERROR to a name that does not resolve, and keeps its links", async () => {
    const { uart } = session;
    const peer = await tcpPeer();
    try {
      await uart.command("AT+CIPMUX=1");
      await uart.command(`AT+CIPSTART=0,"TCP","${PEER_HOST}",${peer.port}`);
      assert.equal(await uart.command('AT+CIPSTART=1,"TCP","no-such-host.invalid",80', 10000), "\r\nERROR\r\n");
      assert.equal(await uart.command('AT+CIPDOMAIN="no-such-host.invalid"', 10000), "\r\nERROR\r\n");
      assert.match(await uart.command("AT+CIPSTATE?"), /^\+CIPSTATE:0,"TCP",/);
    } finally {
      peer.server.close();
    }
  });

  it("accepts no more clients than AT+CIPSERVERMAXCONN", async () => {
    const { uart } = session;
    await uart.command("AT+CIPMUX=1");
    assert.equal(await uart.command("AT+CIPSERVERMAXCONN=1"), "\r\nOK\r\n");
    const port = await freePort();
    await uart.command(`AT+CIPSERVER=1,${port}`);
    const first = connect(port, "127.0.0.1");
    await uart.expect("0,CONNECT\r\n");
    const second = connect(port, "127.0.0.1").resume();
    second.on("error", () => {});
    await new Promise((r) => second.once("close", r));
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(uart.pending, "", "no second CONNECT");
    // The console answers in order: a CONNECT for the second client would come before this reply.
    assert.equal(await uart.command("AT"), "\r\nOK\r\n", "no second CONNECT");
    first.destroy();
    await uart.expect("0,CLOSED\r\n");
  });

  it("answers ERROR to CIPSERVER on a port a connection holds, and serves on it once it is free", async () => {
    const { uart } = session;
    const peer = await tcpPeer();
    // A client without SO_REUSEADDR, as an outgoing connection's ephemeral port is: it holds
    // its port (one the OS picks) until the peer ends, then resets so that no TIME_WAIT keeps it.
    const port = await freePort();
    const holder = python(
      `import socket, struct, sys
s = socket.socket()
s.bind(("127.0.0.1", int(sys.argv[3])))
s.connect((sys.argv[1], int(sys.argv[2])))
print("held")
s.recv(1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()`,
      [PEER_HOST, String(peer.port), String(port)],
    );
    try {
      await holder.line(/held/);
      await uart.command("AT+CIPMUX=1");
      assert.equal(await uart.command(`AT+CIPSERVER=1,${port}`), "\r\nERROR\r\n");
      assert.equal(await uart.command("AT+CIPSERVER?"), "+CIPSERVER:0\r\n\r\nOK\r\n");
      peer.conns[0].end();
      await holder.done;
      assert.equal(await uart.command(`AT+CIPSERVER=1,${port}`), "\r\nOK\r\n");
      const client = connect(port, "127.0.0.1");
      assert.equal(await uart.expect("0,CONNECT\r\n"), "0,CONNECT\r\n");
      client.destroy();
      await uart.expect("0,CLOSED\r\n");
    } finally {
      holder.kill();
      peer.server.close();
    }
  });

  it("closes every link on AT+RST, boots, and serves again", async () => {
    const { uart } = session;
    const peer = await tcpPeer();
    try {
      await uart.command(`AT+CIPSTART="TCP","${PEER_HOST}",${peer.port}`);
      await until(() => peer.conns.length === 1, "the peer's connection");
      const closed = new Promise((r) => peer.conns[0].once("close", r));
      assert.equal(await uart.command("AT+RST"), "\r\nOK\r\n");
      await closed;
      await uart.expect("ready\r\n", 5000);
      assert.equal(await uart.command("AT"), "AT\r\n\r\nOK\r\n", "echo is back on after the restart");
    } finally {
      peer.server.close();
    }
  });

  it("stays in passthrough when the Wi-Fi link drops mid-transfer, reconnects once it is back, and serves commands after +++", async () => {
    const { uart, sim } = session;
    const peer = await tcpPeer();
    try {
      await uart.command("AT+CIPMODE=1");
      await uart.command(`AT+CIPSTART="TCP","${PEER_HOST}",${peer.port}`);
      await uart.write("AT+CIPSEND\r\n");
      await uart.expect(">");
      await uart.write(Buffer.alloc(20000, 0x61));
      await until(() => peer.heard().length >= 20000, "the first 20,000 bytes at the peer");
      const peerClosed = new Promise((r) => peer.conns[0].once("close", r));
      sim!.fault("link-drop", 500);
      // ESP-AT's passthrough client keeps opening its link again until +++ (AT+CIPRECONNINTV): no CLOSED.
      assert.equal(await uart.expect("WIFI GOT IP\r\n", 5000), "WIFI DISCONNECT\r\nWIFI CONNECTED\r\nWIFI GOT IP\r\n");
      await peerClosed;
      await until(() => peer.conns.length === 2, "the link opened again");
      await uart.write("after");
      await until(() => peer.heard().length === 20005, "bytes on the new connection");
      await new Promise((r) => setTimeout(r, 50)); // +++ comes alone, with silence around it
      await uart.write("+++");
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(await uart.command("AT"), "\r\nOK\r\n", "back in command mode");
      assert.equal(peer.heard().subarray(0, 20000).toString(), "a".repeat(20000), "the peer got every byte sent before the drop");
    } finally {
      peer.server.close();
    }
  });

  it("never shows the Wi-Fi password, in replies or in the simulator's log", async () => {
    const { uart, sim } = session;
    const password = "hunter2-secret-pass";
    // The AP refuses it, but the console still holds the password it was given.
    await uart.command(`AT+CWJAP="xsock-sim","${password}"`, 5000);
    assert.equal(await uart.command('AT+CWJAP="xsock-sim",""'), JOINED);
    let seen = "";
    for (const query of ["AT+CWJAP?", "AT+CWJAP_CUR?", "AT+CWJAP_DEF?", "AT+CWSTATE?", "AT+CMD?", "AT+SYSSTORE?"]) seen += await uart.command(query);
    assert.ok(!seen.includes(password) && !seen.includes("hunter2"), seen);
    assert.ok(!sim!.log.includes("hunter2"), "the log never shows it");
  });
});
