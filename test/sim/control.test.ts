// `xsock sim --control`: faults injected into a running board from netcat, on loopback only.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { connect, createServer } from "node:net";
import { TextWaiters } from "../../host-sim/text-waiters.ts";
import { startSim as startBoard } from "../../host-sim/api.ts";
import { JOINED } from "../helpers/console.ts";
import { tcpPeer } from "../helpers/peer.ts";
import { have, needs, runSim, startSim, type SimProcess } from "../helpers/sim.ts";
import { UartClient } from "../helpers/uart.ts";

/** A netcat (OpenBSD's nc) client on the control port: a line in, its reply up to OK or ERROR out. */
class Netcat {
  private readonly out = new TextWaiters("nc");
  private readonly proc: ChildProcess;

  constructor(port: number, host = "127.0.0.1") {
    this.proc = spawn("nc", [host, String(port)], { stdio: ["pipe", "pipe", "pipe"] });
    this.proc.stdout!.on("data", (d: Buffer) => this.out.add(d.toString("latin1")));
    this.proc.stderr!.on("data", (d: Buffer) => this.out.add(d.toString("latin1")));
    this.proc.on("exit", (code) => this.out.end(`nc exited (${code})`));
  }

  async command(line: string): Promise<string> {
    this.proc.stdin!.write(`${line}\n`);
    return this.out.expect(/^(OK|ERROR[^\r\n]*)\r\n/m, 5000);
  }

  close(): void {
    this.proc.kill();
  }
}

describe("xsock sim --control", function () {
  this.timeout(30000);
  let sim: SimProcess | undefined;
  let uart: UartClient | undefined;
  afterEach(async () => {
    await uart?.close();
    await sim?.stop();
    sim = uart = undefined;
  });

  /** The console on the board's pty, booted, echo off. */
  async function openConsole(board: SimProcess): Promise<UartClient> {
    const client = await UartClient.open(board.uart);
    await client.expect("ready\r\n");
    await client.command("ATE0");
    return client;
  }

  it("takes faults from nc while the board runs: the console reports the link drop and joins again; ERROR leaves the connection usable; several clients at once", async function () {
    needs(this, "nc (netcat-openbsd)", have("nc"));
    sim = await startSim(["--control", "0"]);
    const port = Number((await sim.waitLog(/control listening on 127\.0\.0\.1:(\d+)/))[1]);
    uart = await openConsole(sim);
    assert.equal(await uart.command('AT+CWJAP="xsock-sim",""', 5000), JOINED);
    const peer = await tcpPeer();
    const a = new Netcat(port);
    const b = new Netcat(port);
    try {
      assert.match(await uart.command(`AT+CIPSTART="TCP","127.0.0.1",${peer.port}`), /CONNECT\r\n\r\nOK\r\n$/);
      assert.equal(await a.command("fault power-cut"), 'ERROR no fault "power-cut": the faults are link-drop, dhcp-fail, can-bus-off (fault link-drop +2s)\r\n');
      assert.equal(await a.command("reboot now"), 'ERROR unknown command "reboot": the commands are fault, station, status, help, quit\r\n');
      assert.equal(await a.command("fault link-drop +1s"), "OK\r\n", "the same connection takes the next command");
      await uart.expect("WIFI DISCONNECT\r\n", 3000);
      await uart.expect("CLOSED\r\n", 3000);
      assert.match(await b.command("status"), /^board esp32\/nodemcu\r\nip 127\.0\.0\.1\r\nboots 1\r\nsockets \d+\r\nheap \d+ slots\r\nfaults link-drop \(\d+ ms left\)\r\nOK\r\n$/);
      // The station retries and joins once the AP is back.
      await uart.expect("WIFI CONNECTED\r\nWIFI GOT IP\r\n", 5000);
      assert.match(await a.command("status"), /faults none\r\nOK\r\n$/);
      assert.match(await b.command("help"), /^fault KIND \[\+FOR\].*\r\nstatus .*\r\nhelp .*\r\nquit .*\r\nOK\r\n$/s);
      assert.match(sim.log, /sim: fault link-drop for 1000 ms\n/);
    } finally {
      a.close();
      b.close();
      peer.server.close();
    }
  });

  it("makes joins fail with fault dhcp-fail, and ends it with +0", async function () {
    needs(this, "nc (netcat-openbsd)", have("nc"));
    sim = await startSim(["--control", "localhost:0"]);
    const port = Number((await sim.waitLog(/control listening on 127\.0\.0\.1:(\d+)/))[1]);
    uart = await openConsole(sim);
    const nc = new Netcat(port);
    try {
      assert.equal(await nc.command("fault dhcp-fail"), "OK\r\n");
      assert.match(await nc.command("status"), /faults dhcp-fail\r\nOK\r\n$/);
      assert.equal(await uart.command('AT+CWJAP="xsock-sim","",,,,,,3', 6000), "WIFI CONNECTED\r\n+CWJAP:1\r\n\r\nERROR\r\n");
      assert.equal(await nc.command("fault dhcp-fail +0"), "OK\r\n");
      // The station leaves the AP it associated with (WIFI DISCONNECT) and joins again.
      assert.ok((await uart.command('AT+CWJAP="xsock-sim",""', 5000)).endsWith(JOINED));
    } finally {
      nc.close();
    }
  });

  it("makes phones join and leave the board's SoftAP from nc: the console announces them, the SoftAP's limits answer ERROR", async function () {
    needs(this, "nc (netcat-openbsd)", have("nc"));
    sim = await startSim(["--control", "0"]);
    const port = Number((await sim.waitLog(/control listening on 127\.0\.0\.1:(\d+)/))[1]);
    uart = await openConsole(sim);
    const nc = new Netcat(port);
    try {
      assert.equal(await nc.command("station join aa:bb:cc:dd:ee:01"), "ERROR the board's SoftAP is off (Wi-Fi mode 1): it needs AT+CWMODE=2 or 3\r\n");
      assert.equal(await uart.command("AT+CWMODE=2"), "\r\nOK\r\n");
      assert.equal(await uart.command('AT+CWSAP="xsock-ap","secret-pass",6,3,1'), "\r\nOK\r\n");
      assert.equal(await nc.command("station join AA:BB:CC:DD:EE:01"), "ip 192.168.4.2\r\nOK\r\n");
      assert.equal(await uart.expect(/DIST_STA_IP.*\r\n/, 3000), '+STA_CONNECTED:"aa:bb:cc:dd:ee:01"\r\n+DIST_STA_IP:"aa:bb:cc:dd:ee:01","192.168.4.2"\r\n');
      assert.equal(await nc.command("station join aa:bb:cc:dd:ee:02"), "ERROR the SoftAP is full: 1 station at most\r\n");
      assert.equal(await nc.command("station join aa:bb:cc"), 'ERROR bad MAC "aa:bb:cc": use station join MAC or station leave MAC (MAC as aa:bb:cc:dd:ee:ff)\r\n');
      assert.equal(await nc.command("station wave aa:bb:cc:dd:ee:01"), 'ERROR no station command "wave": use station join MAC or station leave MAC (MAC as aa:bb:cc:dd:ee:ff)\r\n');
      assert.equal(await uart.command("AT+CWLIF"), "+CWLIF:192.168.4.2,aa:bb:cc:dd:ee:01\r\n\r\nOK\r\n");
      assert.equal(await nc.command("station leave aa:bb:cc:dd:ee:01"), "OK\r\n");
      assert.equal(await uart.expect(/STA_DISCONNECTED.*\r\n/, 3000), '+STA_DISCONNECTED:"aa:bb:cc:dd:ee:01"\r\n');
      assert.equal(await nc.command("station leave aa:bb:cc:dd:ee:01"), "ERROR aa:bb:cc:dd:ee:01 is not on the SoftAP\r\n");
      assert.match(sim.log, /sim: aa:bb:cc:dd:ee:01 joins the SoftAP \(192\.168\.4\.2\)\n[^]*sim: aa:bb:cc:dd:ee:01 leaves the SoftAP\n/);
    } finally {
      nc.close();
    }
  });

  it("listens on ::1 when asked, and refuses any address that is not loopback with exit code 2", async () => {
    for (const address of ["0.0.0.0:0", "192.168.1.20:7100", "[::]:0", "example.com:7100"]) {
      const { code, log } = await runSim(["--control", address]);
      assert.equal(code, 2, log);
      assert.match(log, /--control listens on loopback only \(127\.0\.0\.1, ::1 or localhost\), not on /);
    }
    const bad = await runSim(["--control", "::1:7100"]);
    assert.equal(bad.code, 2, bad.log);
    assert.match(bad.log, /use PORT, HOST:PORT or \[::1\]:PORT/);
    sim = await startSim(["--control", "[::1]:0"]);
    const port = Number((await sim.waitLog(/control listening on \[::1\]:(\d+)/))[1]);
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, "::1", () => socket.end("status\n"));
      let text = "";
      socket.on("data", (d) => (text += d.toString()));
      socket.on("end", () => resolve(text));
      socket.on("error", reject);
    });
    assert.match(reply, /^board esp32\/nodemcu\r\n.*\r\nOK\r\n$/s);
  });

  it("exits 2 when the control port is taken", async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, "127.0.0.1", () => r()));
    try {
      const { code, log } = await runSim(["--control", String((taken.address() as { port: number }).port)]);
      assert.equal(code, 2, log);
      assert.match(log, /--control 127\.0\.0\.1:\d+: the port is in use/);
    } finally {
      taken.close();
    }
  });

  it("opens the same socket from startSim's control option, and closes it with the board", async () => {
    const board = await startBoard({ control: 0, log: () => {} });
    const { host, port } = board.control!;
    assert.equal(host, "127.0.0.1");
    board.uart.write('AT+CWJAP="xsock-sim",""\r\n');
    await board.uart.expect("WIFI GOT IP\r\n");
    const socket = connect(port, host);
    const replies = new TextWaiters("the control socket");
    socket.on("data", (d) => replies.add(d.toString()));
    socket.write("fault link-drop\r\n");
    assert.equal(await replies.expect("OK\r\n", 3000), "OK\r\n", "CR-LF lines too");
    await board.uart.expect("WIFI DISCONNECT\r\n");
    socket.destroy();
    await board.stop();
    await assert.rejects(
      new Promise((resolve, reject) => connect(port, host).on("connect", resolve).on("error", reject)),
      /ECONNREFUSED/,
    );
  });
});
