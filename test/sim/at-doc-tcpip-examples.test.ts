// esp-at's TCP-IP examples page (docs/en/AT_Command_Examples/TCP-IP_AT_Examples.rst), step by step
// over the pty, each test named after its section and checking each reply as the page prints it.
// The PC is a peer on loopback (or at PEER_HOST for a board); the page's fixed ports (8080, 1112,
// 8070, 35) are ports from the OS. The SoftAP's two examples are in at-doc-wifi.test.ts, the SSL
// server's and mutual authentication's in at-doc-ssl.test.ts, the mDNS discovery in at-doc-mdns.test.ts.
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { mkdtempSync, rmSync } from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { JOINED, leavePassthrough, until, withConsole } from "../helpers/console.ts";
import { tcpPeer as peer } from "../helpers/peer.ts";
import { freePort } from "../helpers/ports.ts";
import { BIND_HOST, JOIN, PEER_HOST } from "../helpers/target.ts";
import type { UartClient } from "../helpers/uart.ts";

const OK = "\r\nOK\r\n";
const ERROR = "\r\nERROR\r\n";

/** A UDP endpoint on the PC, keeping what it hears. */
async function udpEndpoint(): Promise<{ socket: UdpSocket; port: number; heard: string[] }> {
  const socket = createSocket("udp4");
  const heard: string[] = [];
  socket.on("message", (m) => heard.push(m.toString("latin1")));
  await new Promise<void>((r) => socket.bind(0, BIND_HOST, () => r()));
  return { socket, port: socket.address().port, heard };
}

describe("esp-at TCP-IP AT Examples, as documented", function () {
  this.timeout(60000);
  const session = withConsole({ join: false });
  let uart: UartClient;
  beforeEach(() => void ({ uart } = session));

  /** The first steps of the station's examples: station mode, join the router, query the address. */
  async function joinRouter(): Promise<string> {
    assert.equal(await uart.command("AT+CWMODE=1"), OK);
    assert.equal(await uart.command(JOIN, 20000), JOINED);
    const sta = await uart.command("AT+CIPSTA?");
    assert.match(sta, /^\+CIPSTA:ip:"[\d.]+"\r\n\+CIPSTA:gateway:"[\d.]+"\r\n\+CIPSTA:netmask:"255\.255\.255\.0"\r\n\r\nOK\r\n$/);
    return /ip:"([\d.]+)"/.exec(sta)![1];
  }

  /** `command` (an AT+CIPSEND), then the data: OK, >, Recv, SEND OK. */
  async function send(command: string, data: string): Promise<void> {
    await uart.write(`${command}\r\n`);
    assert.equal(await uart.expect(">"), `${OK}\r\n>`);
    await uart.write(data);
    assert.equal(await uart.expect("SEND OK\r\n"), `\r\nRecv ${data.length} bytes\r\n\r\nSEND OK\r\n`);
  }

  it("ESP32 as a TCP client in single connection", async () => {
    await joinRouter();
    const pc = await peer();
    try {
      assert.equal(await uart.command(`AT+CIPSTART="TCP","${PEER_HOST}",${pc.port}`), `CONNECT\r\n${OK}`);
      await send("AT+CIPSEND=4", "test");
      await until(() => pc.heard().toString() === "test", "test at the PC");
      pc.conns[0].write("test");
      assert.equal(await uart.expect("test"), "\r\n+IPD,4:test");
    } finally {
      pc.server.close();
    }
  });

  it("UDP transmission with fixed remote IP address and port", async () => {
    const board = await joinRouter();
    const pc = await udpEndpoint();
    const otherPc = await udpEndpoint();
    try {
      assert.equal(await uart.command("AT+CIPMUX=1"), OK);
      const local = await freePort([board], ["udp"]);
      assert.equal(await uart.command(`AT+CIPSTART=4,"UDP","${PEER_HOST}",${pc.port},${local},0`), `4,CONNECT\r\n${OK}`);
      await send("AT+CIPSEND=4,7", "abcdefg");
      await until(() => pc.heard.length === 1, "abcdefg at the PC");
      assert.deepEqual(pc.heard, ["abcdefg"]);
      pc.socket.send("test", local, board);
      assert.equal(await uart.expect("test"), "\r\n+IPD,4,4:test");
      // <mode> 0: another PC's data comes in on the same port, and what the board sends still goes to the first PC.
      otherPc.socket.send("from", local, board);
      assert.equal(await uart.expect("from"), "\r\n+IPD,4,4:from");
      await send("AT+CIPSEND=4,4", "next");
      await until(() => pc.heard.length === 2, "next at the first PC");
      assert.deepEqual([pc.heard, otherPc.heard], [["abcdefg", "next"], []]);
      assert.equal(await uart.command("AT+CIPCLOSE=4"), `4,CLOSED\r\n${OK}`);
    } finally {
      pc.socket.close();
      otherPc.socket.close();
    }
  });

  it("UDP transmission with changeable remote IP address and port", async () => {
    const board = await joinRouter();
    const pc = await udpEndpoint();
    const otherPc = await udpEndpoint();
    try {
      assert.equal(await uart.command("AT+CIPMUX=0"), OK);
      const local = await freePort([board], ["udp"]);
      assert.equal(await uart.command(`AT+CIPSTART="UDP","${PEER_HOST}",${pc.port},${local},2`), `CONNECT\r\n${OK}`);
      await send("AT+CIPSEND=4", "test");
      await until(() => pc.heard.length === 1, "test at the PC");
      // Send data to any other UDP terminal: its address and port in the command.
      await send(`AT+CIPSEND=4,"${PEER_HOST}",${otherPc.port}`, "tes2");
      await until(() => otherPc.heard.length === 1, "tes2 at the other PC");
      pc.socket.send("test", local, board);
      assert.equal(await uart.expect("test"), "\r\n+IPD,4:test");
      // <mode> 2: the remote end is the last sender, now the other PC.
      otherPc.socket.send("moved", local, board);
      assert.equal(await uart.expect("moved"), "\r\n+IPD,5:moved");
      await send("AT+CIPSEND=4", "back");
      await until(() => otherPc.heard.length === 2, "back at the other PC");
      assert.deepEqual([pc.heard, otherPc.heard], [["test"], ["tes2", "back"]]);
      assert.equal(await uart.command("AT+CIPCLOSE"), `CLOSED\r\n${OK}`);
    } finally {
      pc.socket.close();
      otherPc.socket.close();
    }
  });

  it("ESP32 as an SSL client in single connection (openssl s_server)", async () => {
    await joinRouter();
    const dir = mkdtempSync(join(tmpdir(), "xsock-doc-ssl-"));
    execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "server.key", "-out", "server.crt", "-subj", "/CN=espressif", "-days", "1"], { cwd: dir, stdio: "ignore" });
    const server = spawn("openssl", ["s_server", "-accept", `${BIND_HOST}:0`, "-cert", "server.crt", "-key", "server.key"], { cwd: dir });
    let out = "";
    server.stdout.on("data", (d: Buffer) => (out += d.toString("latin1")));
    server.stderr.on("data", (d: Buffer) => (out += d.toString("latin1")));
    try {
      await until(() => /ACCEPT/.test(out), "openssl s_server's ACCEPT");
      const port = Number(/ACCEPT \S+:(\d+)/.exec(out)![1]);
      assert.equal(await uart.command(`AT+CIPSTART="SSL","${PEER_HOST}",${port}`, 20000), `CONNECT\r\n${OK}`);
      await send("AT+CIPSEND=4", "test");
      await until(() => out.includes("test"), "test at s_server");
      server.stdin.write("test");
      assert.equal(await uart.expect("test"), "\r\n+IPD,4:test");
    } finally {
      server.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("Network passthrough transmission when the ESP32 works as a TCP client in single connection", async () => {
    await joinRouter();
    const pc = await peer();
    try {
      assert.equal(await uart.command(`AT+CIPSTART="TCP","${PEER_HOST}",${pc.port}`), `CONNECT\r\n${OK}`);
      assert.equal(await uart.command("AT+CIPMODE=1"), OK);
      await uart.write("AT+CIPSEND\r\n");
      assert.equal(await uart.expect(">"), `${OK}\r\n>`);
      await uart.write("hello");
      await until(() => pc.heard().toString() === "hello", "hello at the PC");
      pc.conns[0].write("world");
      assert.equal(await uart.expect("world"), "world");
      // Stop sending data: a packet of +++ alone, then at least a second before the next command.
      await leavePassthrough(uart);
      assert.equal(await uart.command("AT+CIPMODE=0"), OK);
      assert.equal(await uart.command("AT+CIPCLOSE"), `CLOSED\r\n${OK}`);
      assert.equal(pc.heard().toString(), "hello", "+++ did not go to the PC");
    } finally {
      pc.server.close();
    }
  });

  it("Network passthrough transmission when the ESP32 works as a TCP server", async () => {
    const board = await joinRouter();
    assert.equal(await uart.command("AT+CIPMUX=1"), OK);
    // Passthrough is point to point: one client at most.
    assert.equal(await uart.command("AT+CIPSERVERMAXCONN=1"), OK);
    const port = await freePort([board]);
    assert.equal(await uart.command(`AT+CIPSERVER=1,${port}`), OK);
    const pc = createConnection(port, board);
    pc.on("error", () => {});
    let heard = "";
    pc.on("data", (d: Buffer) => (heard += d.toString("latin1")));
    try {
      assert.equal(await uart.expect("0,CONNECT\r\n"), "0,CONNECT\r\n");
      assert.equal(await uart.command("AT+CIPMODE=1"), OK);
      // Not with a server of more than one client.
      assert.equal(await uart.command("AT+CIPSERVERMAXCONN=2"), ERROR);
      await uart.write("AT+CIPSEND\r\n");
      assert.equal(await uart.expect(">"), `${OK}\r\n>`);
      await uart.write("hello");
      await until(() => heard === "hello", "hello at the PC");
      pc.write("world");
      assert.equal(await uart.expect("world"), "world");
      await leavePassthrough(uart);
      assert.equal(await uart.command("AT+CIPMODE=0"), OK);
      // The page closes with AT+CIPCLOSE, the single-connection form; with CIPMUX=1 it takes the link ID.
      assert.equal(await uart.command("AT+CIPCLOSE=0"), `0,CLOSED\r\n${OK}`);
      assert.equal(heard, "hello", "+++ did not go to the PC");
    } finally {
      pc.destroy();
    }
  });

  it("ESP32 obtains socket data in passive receiving mode", async () => {
    await joinRouter();
    const pc = await peer();
    try {
      assert.equal(await uart.command(`AT+CIPSTART="TCP","${PEER_HOST}",${pc.port}`), `CONNECT\r\n${OK}`);
      assert.equal(await uart.command("AT+CIPRECVTYPE=1"), OK);
      await until(() => pc.conns.length === 1, "the connection at the PC");
      pc.conns[0].write("test");
      assert.equal(await uart.expect("+IPD,4\r\n"), "\r\n+IPD,4\r\n");
      assert.equal(await uart.command("AT+CIPRECVLEN?"), `+CIPRECVLEN:4\r\n${OK}`);
      assert.equal(await uart.command("AT+CIPRECVDATA=4"), "+CIPRECVDATA:4,test\r\nOK\r\n");
    } finally {
      pc.server.close();
    }
  });
});
