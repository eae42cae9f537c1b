// esp-at's Wi-Fi AT Commands page (docs/en/AT_Command_Set/Wi-Fi_AT_Commands.rst): each example
// and response template of a command the console claims in AT+CMD?, replayed over the pty against
// the simulator's APs (the page's own: "abc", "ab\,c", "Wi-Fi", "test") and phones that join its
// SoftAP. Each test is named after the doc section, and checks the exact reply.
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { createConnection } from "node:net";
import type { AccessPoint } from "../../host-sim/devices/wifi.ts";
import { leavePassthrough, until, withConsole } from "../helpers/console.ts";
import { freePort, runAddress } from "../helpers/ports.ts";
import type { UartClient } from "../helpers/uart.ts";

const OK = "\r\nOK\r\n";
const ERROR = "\r\nERROR\r\n";
const JOINED = `WIFI CONNECTED\r\nWIFI GOT IP\r\n${OK}`;
const PHONE = "aa:bb:cc:00:00:01";

/** The page's APs: two called "abc" (told apart by BSSID), "ab\,c" with password `0123456789"\`, an open "Wi-Fi". */
const APS: AccessPoint[] = [
  { ssid: "abc", password: "0123456789", rssi: -60, channel: 11, bssid: "ca:d7:19:d8:a6:45" },
  { ssid: "abc", password: "0123456789", rssi: -50, channel: 6, bssid: "ca:d7:19:d8:a6:44" },
  { ssid: "ab\\,c", password: '0123456789"\\', rssi: -55, channel: 1, bssid: "02:00:00:00:00:03" },
  { ssid: "Wi-Fi", rssi: -45, channel: 6, bssid: "02:00:00:00:00:04" },
];

describe("esp-at Wi-Fi AT Commands, as documented", function () {
  this.timeout(60000);
  const session = withConsole({ join: false, sim: { aps: APS } });
  let uart: UartClient;
  beforeEach(() => void ({ uart } = session));

  it("AT+CWMODE: Query or Set the Wi-Fi Mode", async () => {
    assert.equal(await uart.command("AT+CWMODE?"), `+CWMODE:1\r\n${OK}`);
    assert.equal(await uart.command("AT+CWMODE=3"), OK);
    assert.equal(await uart.command("AT+CWMODE?"), `+CWMODE:3\r\n${OK}`);
  });

  it("AT+CWSTATE: Query the Wi-Fi state and Wi-Fi information", async () => {
    assert.equal(await uart.command("AT+CWSTATE?"), `+CWSTATE:0,""\r\n${OK}`);
    assert.equal(await uart.command('AT+CWJAP="abc","0123456789"', 20000), JOINED);
    assert.equal(await uart.command("AT+CWSTATE?"), `+CWSTATE:2,"abc"\r\n${OK}`);
    await uart.write("AT+CWQAP\r\n");
    assert.equal(await uart.expect("WIFI DISCONNECT\r\n"), `${OK}WIFI DISCONNECT\r\n`);
    assert.equal(await uart.command("AT+CWSTATE?"), `+CWSTATE:4,"abc"\r\n${OK}`);
  });

  it("AT+CWJAP: Connect to an AP, Example: SSID \"abc\", password \"0123456789\"", async () => {
    assert.equal(await uart.command("AT+CWJAP?"), `No AP\r\n${OK}`);
    assert.equal(await uart.command('AT+CWJAP="abc","0123456789"', 20000), JOINED);
    // <"ssid">,<"bssid">,<channel>,<rssi>,<pci_en>,<reconn_interval>,<listen_interval>,<scan_mode>,<pmf>: the first "abc" found (fast scan).
    assert.equal(await uart.command("AT+CWJAP?"), `+CWJAP:"abc","ca:d7:19:d8:a6:45",11,-60,0,1,3,0,1\r\n${OK}`);
  });

  it("AT+CWJAP: Connect to an AP, Example: escaped SSID \"ab\\,c\" and password \"0123456789\"\\\"", async () => {
    assert.equal(await uart.command('AT+CWJAP="ab\\\\\\,c","0123456789\\"\\\\"', 20000), JOINED);
    assert.equal(await uart.command("AT+CWSTATE?"), `+CWSTATE:2,"ab\\,c"\r\n${OK}`);
  });

  it("AT+CWJAP: Connect to an AP, Example: the AP of that SSID with BSSID ca:d7:19:d8:a6:44", async () => {
    assert.equal(await uart.command('AT+CWJAP="abc","0123456789","ca:d7:19:d8:a6:44"', 20000), JOINED);
    assert.equal(await uart.command("AT+CWJAP?"), `+CWJAP:"abc","ca:d7:19:d8:a6:44",6,-50,0,1,3,0,1\r\n${OK}`);
  });

  it("AT+CWJAP: Connect to an AP, Example: protected management frames (<pmf> 3)", async () => {
    assert.equal(await uart.command('AT+CWJAP="abc","0123456789",,,,,,,3', 20000), JOINED);
    assert.equal(await uart.command("AT+CWJAP?"), `+CWJAP:"abc","ca:d7:19:d8:a6:45",11,-60,0,1,3,0,3\r\n${OK}`);
  });

  it("AT+CWJAP: Connect to an AP, the error template: +CWJAP:<error code> then ERROR", async () => {
    assert.equal(await uart.command('AT+CWJAP="abc","wrong-password"', 20000), `+CWJAP:2\r\n${ERROR}`);
    assert.equal(await uart.command('AT+CWJAP="nowhere","0123456789"', 20000), `+CWJAP:3\r\n${ERROR}`);
    // <authmode> is 0 to 16; <pmf> 0 to 3: bad input gets ERROR alone.
    assert.equal(await uart.command('AT+CWJAP="abc","0123456789",,17'), ERROR);
    assert.equal(await uart.command('AT+CWJAP="abc","0123456789",,,,,,,4'), ERROR);
    // The execute command: the last configuration again.
    assert.equal(await uart.command('AT+CWJAP="abc","0123456789"', 20000), JOINED);
    await uart.write("AT+CWQAP\r\n");
    await uart.expect("WIFI DISCONNECT\r\n");
    assert.equal(await uart.command("AT+CWJAP", 20000), JOINED);
  });

  it("AT+CWLAPOPT: Set the Configuration for the Command AT+CWLAP, Example", async () => {
    // <print mask> 31: <ecn>, <"ssid">, <rssi>, <"mac"> and <channel>.
    assert.equal(await uart.command("AT+CWLAPOPT=,31"), OK);
    assert.equal(
      await uart.command("AT+CWLAP", 20000),
      '+CWLAP:(3,"abc",-60,"ca:d7:19:d8:a6:45",11)\r\n+CWLAP:(3,"abc",-50,"ca:d7:19:d8:a6:44",6)\r\n+CWLAP:(3,"ab\\,c",-55,"02:00:00:00:00:03",1)\r\n+CWLAP:(0,"Wi-Fi",-45,"02:00:00:00:00:04",6)\r\n' + OK,
    );
    // Just the APs whose authmode is OPEN.
    assert.equal(await uart.command("AT+CWLAPOPT=,31,-100,1"), OK);
    assert.equal(await uart.command("AT+CWLAP", 20000), `+CWLAP:(0,"Wi-Fi",-45,"02:00:00:00:00:04",6)\r\n${OK}`);
  });

  it("AT+CWLAP: List Available APs, Example", async () => {
    // <ecn>,<"ssid">,<rssi>,<"mac">,<channel>,<freq_offset>,<freqcal_val>,<pairwise_cipher>,<group_cipher>,<wifi_protocol>,<wps>
    const wifi = `+CWLAP:(0,"Wi-Fi",-45,"02:00:00:00:00:04",6,0,0,0,0,7,0)\r\n${OK}`;
    assert.equal(await uart.command('AT+CWLAP="Wi-Fi","02:00:00:00:00:04",6,0,400,1000', 20000), wifi);
    assert.equal(await uart.command('AT+CWLAP="Wi-Fi","ca:d7:19:d8:a6:44",6,0,400,1000', 20000), OK, "no AP of that SSID and MAC");
    assert.equal(await uart.command('AT+CWLAP="Wi-Fi"', 20000), wifi);
    assert.equal(await uart.command('AT+CWLAP="abc",,6', 20000), `+CWLAP:(3,"abc",-50,"ca:d7:19:d8:a6:44",6,0,0,4,4,7,0)\r\n${OK}`);
    // <2ghz_channel_bitmap>: bit 1 is channel 1, with <channel> 0 or left out.
    assert.equal(await uart.command("AT+CWLAP=,,0,0,0,0,2", 20000), `+CWLAP:(3,"ab\\,c",-55,"02:00:00:00:00:03",1,0,0,4,4,7,0)\r\n${OK}`);
    for (const bad of ['AT+CWLAP="Wi-Fi",,6,2', 'AT+CWLAP="Wi-Fi",,6,0,1501', 'AT+CWLAP="Wi-Fi",,6,0,400,1501', 'AT+CWLAP="Wi-Fi",,15'])
      assert.equal(await uart.command(bad), ERROR, bad);
  });

  it("AT+CWQAP: Disconnect from an AP", async () => {
    assert.equal(await uart.command('AT+CWJAP="abc","0123456789"', 20000), JOINED);
    await uart.write("AT+CWQAP\r\n");
    assert.equal(await uart.expect("WIFI DISCONNECT\r\n"), `${OK}WIFI DISCONNECT\r\n`);
    assert.equal(await uart.command("AT+CWJAP?"), `No AP\r\n${OK}`);
  });

  it("AT+CWSAP: Query or set the configuration of an ESP32 SoftAP, Example", async () => {
    assert.equal(await uart.command('AT+CWSAP="ESP","1234567890",5,3'), ERROR, "it works only in SoftAP modes");
    assert.equal(await uart.command("AT+CWMODE=2"), OK);
    assert.equal(await uart.command('AT+CWSAP="ESP","1234567890",5,3'), OK);
    // <"ssid">,<"pwd">,<channel>,<ecn>,<max conn>,<ssid hidden>
    assert.equal(await uart.command("AT+CWSAP?"), `+CWSAP:"ESP","1234567890",5,3,4,0\r\n${OK}`);
  });

  it("AT+CWLIF: Obtain IP Address of the Station That Connects to an ESP32 SoftAP", async () => {
    assert.equal(await uart.command("AT+CWMODE=2"), OK);
    session.sim!.stationJoin(PHONE);
    await uart.expect(`+DIST_STA_IP:"${PHONE}","192.168.4.2"\r\n`);
    assert.equal(await uart.command("AT+CWLIF"), `+CWLIF:192.168.4.2,${PHONE}\r\n${OK}`);
  });

  it("AT+CWQIF: Disconnect Stations from an ESP32 SoftAP", async () => {
    assert.equal(await uart.command("AT+CWMODE=2"), OK);
    session.sim!.stationJoin(PHONE);
    await uart.expect(`+STA_CONNECTED:"${PHONE}"\r\n`);
    await uart.write(`AT+CWQIF="${PHONE}"\r\n`);
    assert.match(await uart.expect(`+STA_DISCONNECTED:"${PHONE}"\r\n`), /OK\r\n/);
    session.sim!.stationJoin(PHONE);
    await uart.expect(`+STA_CONNECTED:"${PHONE}"\r\n`);
    await uart.write("AT+CWQIF\r\n");
    assert.match(await uart.expect(`+STA_DISCONNECTED:"${PHONE}"\r\n`), /OK\r\n/);
    assert.equal(await uart.command("AT+CWLIF"), OK);
  });

  it("AT+CWDHCP: Enable or disable DHCP, Example", async () => {
    assert.equal(await uart.command("AT+CWDHCP?"), `+CWDHCP:3\r\n${OK}`);
    assert.equal(await uart.command("AT+CWDHCP=0,1"), OK);
    assert.equal(await uart.command("AT+CWDHCP?"), `+CWDHCP:2\r\n${OK}`);
    // Enable Station DHCP: from 2 to 3.
    assert.equal(await uart.command("AT+CWDHCP=1,1"), OK);
    assert.equal(await uart.command("AT+CWDHCP?"), `+CWDHCP:3\r\n${OK}`);
    // Disable SoftAP DHCP: from 3 to 1.
    assert.equal(await uart.command("AT+CWDHCP=0,2"), OK);
    assert.equal(await uart.command("AT+CWDHCP?"), `+CWDHCP:1\r\n${OK}`);
  });

  it("AT+CWDHCPS: Query or Set the IPv4 Addresses Allocated by an ESP32 SoftAP DHCP Server, Example", async () => {
    assert.equal(await uart.command("AT+CWMODE=2"), OK);
    assert.equal(await uart.command('AT+CWDHCPS=1,3,"192.168.4.10","192.168.4.15"'), OK);
    // <lease time>,<start IP>,<end IP>
    assert.equal(await uart.command("AT+CWDHCPS?"), `+CWDHCPS:3,192.168.4.10,192.168.4.15\r\n${OK}`);
    session.sim!.stationJoin(PHONE);
    await uart.expect(`+DIST_STA_IP:"${PHONE}","192.168.4.10"\r\n`);
    // Disable the settings and use the default IPv4 address range.
    assert.equal(await uart.command("AT+CWDHCPS=0"), OK);
    assert.equal(await uart.command("AT+CWDHCPS?"), `+CWDHCPS:120,192.168.4.2,192.168.4.101\r\n${OK}`);
  });

  it("AT+CWAUTOCONN: Query or Set Automatic Connection to an AP When Powered on, Example", async () => {
    assert.equal(await uart.command("AT+CWAUTOCONN?"), `+CWAUTOCONN:1\r\n${OK}`);
    assert.equal(await uart.command("AT+CWAUTOCONN=0"), OK);
    assert.equal(await uart.command("AT+CWAUTOCONN?"), `+CWAUTOCONN:0\r\n${OK}`);
    assert.equal(await uart.command("AT+CWAUTOCONN=1"), OK);
    assert.equal(await uart.command("AT+CWAUTOCONN?"), `+CWAUTOCONN:1\r\n${OK}`);
  });

  it("AT+CIPSTAMAC: Query or Set the MAC Address of an ESP32 Station", async () => {
    assert.equal(await uart.command("AT+CIPSTAMAC?"), `+CIPSTAMAC:"24:0a:c4:00:00:01"\r\n${OK}`);
    assert.equal(await uart.command('AT+CIPSTAMAC="1a:fe:35:98:d3:7b"'), OK);
    assert.equal(await uart.command("AT+CIPSTAMAC?"), `+CIPSTAMAC:"1a:fe:35:98:d3:7b"\r\n${OK}`);
  });

  it("AT+CIPAPMAC: Query or Set the MAC Address of an ESP32 SoftAP", async () => {
    assert.equal(await uart.command("AT+CIPAPMAC?"), `+CIPAPMAC:"24:0a:c4:00:00:02"\r\n${OK}`);
    // The SoftAP's MAC is set while the SoftAP runs (mode 2 or 3).
    assert.equal(await uart.command('AT+CIPAPMAC="18:fe:35:98:d3:7b"'), ERROR);
    assert.equal(await uart.command("AT+CWMODE=3"), OK);
    assert.equal(await uart.command('AT+CIPAPMAC="18:fe:35:98:d3:7b"'), OK);
    assert.equal(await uart.command("AT+CIPAPMAC?"), `+CIPAPMAC:"18:fe:35:98:d3:7b"\r\n${OK}`);
  });

  it("AT+CIPSTA: Query or Set the IP Address of an ESP32 Station, Example", async () => {
    assert.equal(await uart.command('AT+CIPSTA="192.168.6.100","192.168.6.1","255.255.255.0"'), OK);
    assert.equal(await uart.command("AT+CIPSTA?"), `+CIPSTA:ip:"192.168.6.100"\r\n+CIPSTA:gateway:"192.168.6.1"\r\n+CIPSTA:netmask:"255.255.255.0"\r\n${OK}`);
    assert.equal(await uart.command("AT+CWDHCP?"), `+CWDHCP:2\r\n${OK}`, "the static address turned the station's DHCP off");
  });

  it("AT+CIPAP: Query or Set the IP Address of an ESP32 SoftAP, Example", async () => {
    assert.equal(await uart.command("AT+CWMODE=2"), OK);
    assert.equal(await uart.command('AT+CIPAP="192.168.5.1","192.168.5.1","255.255.255.0"'), OK);
    assert.equal(await uart.command("AT+CIPAP?"), `+CIPAP:ip:"192.168.5.1"\r\n+CIPAP:gateway:"192.168.5.1"\r\n+CIPAP:netmask:"255.255.255.0"\r\n${OK}`);
    session.sim!.stationJoin(PHONE);
    await uart.expect(`+DIST_STA_IP:"${PHONE}","192.168.5.2"\r\n`);
  });

  it("AT+CWHOSTNAME: Query or Set the Host Name of an ESP32 Station, Example", async () => {
    assert.equal(await uart.command("AT+CWHOSTNAME?"), `+CWHOSTNAME:espressif\r\n${OK}`);
    assert.equal(await uart.command("AT+CWMODE=3"), OK);
    assert.equal(await uart.command('AT+CWHOSTNAME="my_test"'), OK);
    assert.equal(await uart.command("AT+CWHOSTNAME?"), `+CWHOSTNAME:my_test\r\n${OK}`);
    // If the Station mode is not enabled: ERROR.
    assert.equal(await uart.command("AT+CWMODE=2"), OK);
    assert.equal(await uart.command('AT+CWHOSTNAME="other"'), ERROR);
  });
});

// TCP-IP_AT_Examples.rst's two examples on the SoftAP alone (AT+CWMODE=2, no station): the PC
// is a phone that joins the simulator's SoftAP (stationJoin). The simulated network puts the
// board's addresses on loopback: a SoftAP address the host lacks (ESP-IDF's 192.168.4.1) is the
// simulator's own address there; one on loopback (AT+CIPAP) is itself, and so are its phones'.
describe("esp-at TCP-IP AT Examples, on the SoftAP alone", function () {
  this.timeout(60000);
  const session = withConsole({ join: false, sim: {} });
  let uart: UartClient;
  beforeEach(() => void ({ uart } = session));

  it("ESP32 as a TCP server in multiple connections, in the softAP mode", async () => {
    assert.equal(await uart.command("AT+CWMODE=2"), OK);
    assert.equal(await uart.command("AT+CIPMUX=1"), OK);
    assert.equal(await uart.command('AT+CWSAP="ESP32_softAP","1234567890",5,3'), OK);
    assert.equal(await uart.command("AT+CIPAP?"), `+CIPAP:ip:"192.168.4.1"\r\n+CIPAP:gateway:"192.168.4.1"\r\n+CIPAP:netmask:"255.255.255.0"\r\n${OK}`);
    // The doc's server takes the default port, 333; here one the OS has free.
    const port = await freePort([session.sim!.ip]);
    assert.equal(await uart.command(`AT+CIPSERVER=1,${port}`), OK);
    assert.equal(await uart.command("AT+CIPSTATUS"), `STATUS:5\r\n${OK}`, "<stat> is the station's: it has no IP");
    // Connect the PC to the SoftAP, then a TCP client to the server.
    session.sim!.stationJoin(PHONE);
    assert.equal(await uart.expect('"192.168.4.2"\r\n'), `+STA_CONNECTED:"${PHONE}"\r\n+DIST_STA_IP:"${PHONE}","192.168.4.2"\r\n`);
    const client = createConnection(port, session.sim!.ip);
    client.on("error", () => {});
    let heard = "";
    client.on("data", (d: Buffer) => (heard += d.toString()));
    try {
      assert.equal(await uart.expect("0,CONNECT\r\n"), "0,CONNECT\r\n");
      assert.match(await uart.command("AT+CIPSTATUS"), /^STATUS:3\r\n\+CIPSTATUS:0,"TCP","127\.0\.0\.1",\d+,\d+,1\r\n\r\nOK\r\n$/);
      await uart.write("AT+CIPSEND=0,4\r\n");
      assert.equal(await uart.expect(">"), `${OK}\r\n>`);
      await uart.write("test");
      assert.equal(await uart.expect("SEND OK\r\n"), "\r\nRecv 4 bytes\r\n\r\nSEND OK\r\n");
      await until(() => heard === "test", "test at the PC");
      client.write("test");
      assert.equal(await uart.expect("test"), "\r\n+IPD,0,4:test");
      assert.equal(await uart.command("AT+CIPCLOSE=0"), `0,CLOSED\r\n${OK}`);
    } finally {
      client.destroy();
    }
  });

  it("Network passthrough transmission when the ESP32 works as a softAP in UDP transparent transmission", async () => {
    assert.equal(await uart.command("AT+CWMODE=2"), OK);
    assert.equal(await uart.command('AT+CWSAP="ESP32_softAP","1234567890",5,3'), OK);
    // The SoftAP's /24 moves to this run's loopback block, where the PC's address exists too.
    assert.equal(await uart.command(`AT+CIPAP="${runAddress(1)}"`), OK);
    session.sim!.stationJoin(PHONE);
    const pc = runAddress(2);
    assert.equal(await uart.expect(`"${pc}"\r\n`), `+STA_CONNECTED:"${PHONE}"\r\n+DIST_STA_IP:"${PHONE}","${pc}"\r\n`);
    // Create a UDP endpoint on the PC.
    const endpoint = createSocket("udp4");
    await new Promise<void>((r) => endpoint.bind(0, pc, () => r()));
    const heard: string[] = [];
    endpoint.on("message", (m) => heard.push(m.toString()));
    try {
      const local = await freePort(["0.0.0.0"], ["udp"]);
      assert.equal(await uart.command(`AT+CIPSTART="UDP","${pc}",${endpoint.address().port},${local},0`), `CONNECT\r\n${OK}`);
      assert.equal(await uart.command("AT+CIPMODE=1"), OK);
      await uart.write("AT+CIPSEND\r\n");
      assert.equal(await uart.expect(">"), `${OK}\r\n>`);
      await uart.write("hello");
      await until(() => heard.includes("hello"), "hello at the PC");
      endpoint.send("world", local, runAddress(1));
      assert.equal(await uart.expect("world"), "world");
      // Stop sending data: +++ alone, then a second before the next command.
      await leavePassthrough(uart);
      assert.equal(await uart.command("AT+CIPMODE=0"), OK);
      assert.equal(await uart.command("AT+CIPCLOSE"), `CLOSED\r\n${OK}`);
      assert.deepEqual(heard, ["hello"], "+++ did not go to the PC");
    } finally {
      endpoint.close();
    }
  });
});
