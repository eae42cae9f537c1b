// An Ethernet board's console (esp32/wt32_eth01): the link at boot with no CWJAP, +ETH_*
// messages, AT+CIPETH, and a link drop in the middle of a passthrough transfer.
import assert from "node:assert/strict";
import { createConnection } from "node:net";
import { startSim, type SimBoard } from "xsock/sim";
import { until } from "../helpers/console.ts";
import { tcpPeer as peer } from "../helpers/peer.ts";
import { freePort } from "../helpers/ports.ts";
import { UartClient } from "../helpers/uart.ts";

const UP = "+ETH_CONNECTED\r\n+ETH_GOT_IP:127.0.0.1\r\n";

describe("console on an Ethernet board", function () {
  this.timeout(20000);
  let sim: SimBoard;
  let uart: UartClient;
  beforeEach(async () => {
    sim = await startSim({ board: "esp32/wt32_eth01", uart: "pty" });
    uart = await UartClient.open(sim.uart.path);
    assert.equal(await uart.expect(UP), `\r\nready\r\n${UP}`, "the link comes up at boot, with no CWJAP");
    assert.equal(await uart.command("ATE0"), "ATE0\r\n\r\nOK\r\n");
  });
  afterEach(async function () {
    if (this.currentTest?.state === "failed") console.log(`--- simulator log ---\n${sim.log.slice(-3000)}`);
    await uart.close();
    await sim.stop();
  });

  it("reports its address with CIPETH and CIPSTATUS, and opens links without Wi-Fi", async () => {
    assert.equal(await uart.command("AT+CIPETH?"), "+CIPETH:ip:127.0.0.1\r\n+CIPETH:gateway:127.0.0.1\r\n+CIPETH:netmask:255.255.255.0\r\n\r\nOK\r\n");
    assert.equal(await uart.command("AT+CIPETHMAC?"), '+CIPETHMAC:"24:0a:c4:00:00:04"\r\n\r\nOK\r\n');
    assert.equal(await uart.command("AT+CIPSTATUS"), "STATUS:2\r\n\r\nOK\r\n");
    assert.equal(await uart.command("AT+CWJAP?"), "No AP\r\n\r\nOK\r\n", "Wi-Fi has joined nothing");
    const p = await peer();
    assert.equal(await uart.command(`AT+CIPSTART="TCP","127.0.0.1",${p.port}`), "CONNECT\r\n\r\nOK\r\n");
    await uart.write("AT+CIPSEND=4\r\n");
    await uart.expect(">");
    await uart.write("wire");
    await uart.expect("SEND OK\r\n");
    await until(() => p.heard().toString() === "wire", "wire at the peer");
    p.server.close();
  });

  it("takes a static address with CIPETH= and serves on it; bad addresses get ERROR and change nothing", async () => {
    for (const bad of ['AT+CIPETH="127.0.0.300"', 'AT+CIPETH="127.0.0.7","127.0.0.1"', "AT+CIPETH=7", 'AT+CIPETH="127.0.0.7","x","255.255.255.0"'])
      assert.equal(await uart.command(bad), "\r\nERROR\r\n", bad);
    assert.match(await uart.command("AT+CIPETH?"), /^\+CIPETH:ip:127\.0\.0\.1\r\n/);
    assert.equal(await uart.command('AT+CIPETH="127.0.0.7","127.0.0.254","255.0.0.0"'), "\r\nOK\r\n");
    assert.equal(await uart.expect("+ETH_GOT_IP:127.0.0.7\r\n"), "+ETH_GOT_IP:127.0.0.7\r\n", "esp_netif reports the new address as it takes it");
    assert.equal(await uart.command("AT+CIPETH?"), "+CIPETH:ip:127.0.0.7\r\n+CIPETH:gateway:127.0.0.254\r\n+CIPETH:netmask:255.0.0.0\r\n\r\nOK\r\n");
    assert.equal(await uart.command("AT+CIPMUX=1"), "\r\nOK\r\n");
    const port = await freePort(["127.0.0.7"]);
    assert.equal(await uart.command(`AT+CIPSERVER=1,${port}`), "\r\nOK\r\n");
    const client = createConnection({ host: "127.0.0.7", port });
    assert.equal(await uart.expect("0,CONNECT\r\n"), "0,CONNECT\r\n", "the server listens on the static address");
    client.write("hi");
    assert.match(await uart.expect("hi"), /\+IPD,0,2:hi$/);
    client.destroy();
  });

  it("drops the link in a passthrough transfer: +ETH_DISCONNECTED, the passthrough stays, and the link opens again once the cable is back", async () => {
    const p = await peer();
    assert.equal(await uart.command("AT+CIPMODE=1"), "\r\nOK\r\n");
    assert.equal(await uart.command(`AT+CIPSTART="TCP","127.0.0.1",${p.port}`), "CONNECT\r\n\r\nOK\r\n");
    await uart.write("AT+CIPSEND\r\n");
    await uart.expect(">");
    await uart.write("before the drop");
    await until(() => p.heard().toString() === "before the drop", "the first bytes at the peer");
    const reset = new Promise<string>((resolve) => p.conns[0].on("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? "")));
    const dropped = Date.now();
    sim.fault("link-drop", 800);
    assert.equal(await reset, "ECONNRESET", "the peer sees the connection aborted");
    // As with Wi-Fi: ESP-AT's passthrough client opens its link again (AT+CIPRECONNINTV), without CLOSED.
    assert.equal(await uart.expect(UP, 5000), `+ETH_DISCONNECTED\r\n${UP}`);
    assert.ok(Date.now() - dropped >= 800, "the link stays down for the fault's length");
    await until(() => p.conns.length === 2, "the link opened again");
    await uart.write("after");
    await until(() => p.heard().toString() === "before the dropafter", "bytes on the new connection");
    p.server.close();
  });

});
