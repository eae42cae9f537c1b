// esp-at's AT+MDNS (TCP-IP_AT_Commands.rst, "Device Starts an mDNS Service") and the TCP-IP AT
// Examples' mDNS example: each test is named after the doc section it comes from. The board's
// responder answers on the simulator's loopback (224.0.0.251:5353 on 127.0.0.1), to a resolver
// that asks from another port (RFC 6762's legacy unicast), and to python3-zeroconf, which
// browses as avahi-browse does in the example; then a TCP client connects by the name, as nc does.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createSocket } from "node:dgram";
import { createConnection } from "node:net";
import * as packet from "dns-packet";
import { JOINED, withConsole } from "../helpers/console.ts";
import { python, SYSTEM_PYTHON } from "../helpers/python.ts";
import { freePort } from "../helpers/ports.ts";
import { needs } from "../helpers/sim.ts";
import { JOIN } from "../helpers/target.ts";
import type { UartClient } from "../helpers/uart.ts";

/** Asks 224.0.0.251:5353 on the loopback for `name`; the answers within `ms`, none if nobody answered. */
async function ask(name: string, type: "A" | "PTR" | "SRV" | "TXT", ms = 5000): Promise<packet.Answer[]> {
  const socket = createSocket("udp4");
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  socket.setMulticastInterface("127.0.0.1");
  try {
    const id = 0x1234;
    return await new Promise((resolve) => {
      const timer = setTimeout(() => resolve([]), ms);
      socket.on("message", (bytes) => {
        const reply = packet.decode(bytes);
        if (reply.id !== id || reply.type !== "response") return;
        clearTimeout(timer);
        resolve([...(reply.answers ?? []), ...(reply.additionals ?? [])]);
      });
      socket.send(packet.encode({ id, type: "query", questions: [{ name, type, class: "IN" }] }), 5353, "224.0.0.251");
    });
  } finally {
    socket.close();
  }
}

const ZEROCONF = `
import socket, sys
from zeroconf import Zeroconf
zc = Zeroconf(interfaces=["127.0.0.1"])
try:
    info = zc.get_service_info(sys.argv[1], sys.argv[2], timeout=15000)
    if info is None:
        print("none")
    else:
        txt = " ".join(f"{k.decode()}={v.decode()}" for k, v in info.properties.items())
        print(f"{info.server} {info.port} {','.join(socket.inet_ntoa(a) for a in info.addresses)} {txt}")
finally:
    zc.close()
`;

describe("esp-at AT+MDNS, as documented", function () {
  this.timeout(60000);

  describe("once the board has joined", () => {
    const session = withConsole({ sim: {} });
    let uart: UartClient;
    beforeEach(() => void ({ uart } = session));

    it('Device Starts an mDNS Service: Example, AT+MDNS=1,"espressif","_iot",8080 answers for espressif.local, AT+MDNS=0 stops it', async () => {
      assert.equal(await uart.command('AT+MDNS=1,"espressif","_iot",8080'), "\r\nOK\r\n");
      const host = await ask("espressif.local", "A");
      assert.deepEqual(host.map((a) => [a.name, a.type, (a as packet.StringAnswer).data]), [["espressif.local", "A", session.ip]]);
      const service = await ask("_iot._tcp.local", "PTR");
      assert.deepEqual(
        service.map((a) => [a.name, a.type]),
        [["_iot._tcp.local", "PTR"], ["espressif._iot._tcp.local", "SRV"], ["espressif._iot._tcp.local", "TXT"], ["espressif.local", "A"]],
        "the instance is the host name, the protocol _tcp, by default",
      );
      assert.equal((service[0] as packet.StringAnswer).data, "espressif._iot._tcp.local");
      assert.deepEqual((service[1] as packet.SrvAnswer).data, { priority: 0, weight: 0, port: 8080, target: "espressif.local" });
      assert.equal(await uart.command("AT+MDNS=0"), "\r\nOK\r\n");
      assert.deepEqual(await ask("espressif.local", "A", 3000), [], "nobody answers once it stopped");
    });

    it("Device Starts an mDNS Service: Parameters, bad ones get ERROR and leave the service as it was", async () => {
      assert.equal(await uart.command('AT+MDNS=1,"board","_http",80,"my board","_tcp",1,"path","/"'), "\r\nOK\r\n");
      for (const bad of [
        "AT+MDNS=1",
        'AT+MDNS=1,"board","_http"',
        'AT+MDNS=1,"board","_http",65536',
        'AT+MDNS=1,"","_http",80',
        'AT+MDNS=1,"board","_http",80,"i","_tcp",2,"k","v"',
        'AT+MDNS=1,"board","_http",80,"i","_tcp",0',
        'AT+MDNS=1,"board","_http",80,"i","_tcp",1,"k"',
        'AT+MDNS=0,"board"',
        "AT+MDNS=3",
        "AT+MDNS",
      ])
        assert.equal(await uart.command(bad), "\r\nERROR\r\n", bad);
      const txt = await ask("my board._http._tcp.local", "TXT");
      assert.deepEqual(txt.map((a) => [a.name, a.type, (a as packet.TxtAnswer).data.toString()]), [["my board._http._tcp.local", "TXT", "path=/"]]);
    });

    it("mDNS Example: the PC discovers my_instance (avahi-browse's hostname, address, port and txt) with python3-zeroconf", async function () {
      assert.equal(
        await uart.command('AT+MDNS=1,"espressif","_printer",35,"my_instance","_tcp",2,"product","my_printer","firmware_version","AT-V3.4.1.0"'),
        "\r\nOK\r\n",
      );
      needs(this, "python3-zeroconf", spawnSync(SYSTEM_PYTHON, ["-c", "import zeroconf"]).status === 0);
      const found = (await python(ZEROCONF, ["_printer._tcp.local.", "my_instance._printer._tcp.local."], 30000, SYSTEM_PYTHON).done).trim();
      assert.equal(found, `espressif.local. 35 ${session.ip} product=my_printer firmware_version=AT-V3.4.1.0`);
    });
  });

  describe("the TCP-IP examples page", () => {
    const session = withConsole({ sim: {} });

    it("ESP32 enables mDNS service, PC connects to the device's TCP server using a domain name (nc espressif.local <port>)", async () => {
      const { uart } = session;
      // The page's port 35 is one from the OS here, for both the service and the server.
      const port = await freePort([session.ip]);
      assert.equal(
        await uart.command(`AT+MDNS=1,"espressif","_printer",${port},"my_instance","_tcp",2,"product","my_printer","firmware_version","AT-V3.4.1.0"`),
        "\r\nOK\r\n",
      );
      assert.equal(await uart.command("AT+CIPMUX=1"), "\r\nOK\r\n");
      assert.equal(await uart.command(`AT+CIPSERVER=1,${port}`), "\r\nOK\r\n");
      // What nc does: resolve espressif.local over mDNS, then connect.
      const [address] = (await ask("espressif.local", "A")).filter((a) => a.type === "A").map((a) => (a as packet.StringAnswer).data);
      assert.equal(address, session.ip);
      const nc = createConnection(port, address);
      nc.on("error", () => {});
      try {
        assert.equal(await uart.expect("0,CONNECT\r\n"), "0,CONNECT\r\n");
        nc.write("hi");
        assert.equal(await uart.expect(":hi"), "\r\n+IPD,0,2:hi");
        assert.equal(await uart.command("AT+MDNS=0"), "\r\nOK\r\n");
        assert.deepEqual(await ask("espressif.local", "A", 2000), [], "no answer once stopped");
      } finally {
        nc.destroy();
      }
    });
  });

  describe("before the join", () => {
    const early = withConsole({ sim: {}, join: false });

    it("Device Starts an mDNS Service: set before the station has its address, the service answers once WIFI GOT IP", async () => {
      assert.equal(await early.uart.command('AT+MDNS=1,"espressif","_iot",8080'), "\r\nOK\r\n");
      assert.equal(await early.uart.command(JOIN, 20000), JOINED);
      const host = await ask("espressif.local", "A");
      assert.deepEqual(host.map((a) => [a.name, a.type]), [["espressif.local", "A"]]);
    });
  });
});
