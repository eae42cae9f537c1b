// The console's SoftAP commands over the pty, with phones that join the simulator's SoftAP
// through the xsock/sim API: CWMODE=2/3, CWSAP (set, query, errors, saved or not), CIPAP,
// CWDHCPS, CWDHCP's SoftAP bit, CIPAPMAC, CWLIF, CWQIF, max conn and the unsolicited
// +STA_CONNECTED, +DIST_STA_IP and +STA_DISCONNECTED.
import assert from "node:assert/strict";
import { JOINED, withConsole } from "../helpers/console.ts";
import { simOnly } from "../helpers/target.ts";

const OK = "\r\nOK\r\n";
const ERROR = "\r\nERROR\r\n";
const PHONE = "aa:bb:cc:00:00:01";
const TABLET = "aa:bb:cc:00:00:02";
const LAPTOP = "aa:bb:cc:00:00:03";
/** ESP-AT's SoftAP before any CWSAP: "ESP_" and the SoftAP MAC's last three bytes (24:0a:c4:00:00:02). */
const DEFAULT_AP = '+CWSAP:"ESP_000002","",1,0,4,0\r\n\r\nOK\r\n';

describe("console SoftAP commands", function () {
  before(function () {
    simOnly(this); // phones join the simulator's SoftAP
  });
  this.timeout(20000);
  const session = withConsole({ join: false });

  it("starts ESP-AT's default SoftAP with CWMODE=2, takes CWSAP in SoftAP mode only, keeps it per SYSSTORE and the _CUR/_DEF spellings, and stops it with CWMODE=1", async () => {
    const { uart, sim } = session;
    assert.equal(await uart.command("AT+CWSAP?"), ERROR, "no SoftAP in station mode");
    assert.equal(await uart.command('AT+CWSAP="lab-ap","secret-pass",6,3'), ERROR, "CWSAP needs SoftAP mode");
    assert.equal(await uart.command("AT+CIPAP?"), '+CIPAP:ip:"0.0.0.0"\r\n+CIPAP:gateway:"0.0.0.0"\r\n+CIPAP:netmask:"0.0.0.0"\r\n\r\nOK\r\n');

    assert.equal(await uart.command("AT+CWMODE=2"), OK);
    assert.equal(await uart.command("AT+CWSAP?"), DEFAULT_AP);
    assert.equal(await uart.command("AT+CIPAP?"), '+CIPAP:ip:"192.168.4.1"\r\n+CIPAP:gateway:"192.168.4.1"\r\n+CIPAP:netmask:"255.255.255.0"\r\n\r\nOK\r\n');
    assert.equal(await uart.command("AT+CIPAPMAC?"), '+CIPAPMAC:"24:0a:c4:00:00:02"\r\n\r\nOK\r\n');

    for (const bad of [
      'AT+CWSAP="lab-ap","secret-pass",6,1', // WEP
      'AT+CWSAP="lab-ap","secret-pass",6,5',
      'AT+CWSAP="lab-ap","short",6,3', // a WPA passphrase has 8 to 64 characters
      `AT+CWSAP="lab-ap","${"p".repeat(65)}",6,3`,
      'AT+CWSAP="lab-ap","secret-pass",0,3',
      'AT+CWSAP="lab-ap","secret-pass",14,3',
      'AT+CWSAP="lab-ap","secret-pass",6,3,0',
      'AT+CWSAP="lab-ap","secret-pass",6,3,11',
      'AT+CWSAP="lab-ap","secret-pass",6,3,4,2',
      'AT+CWSAP="lab-ap","secret-pass",6,3,4,0,9',
      `AT+CWSAP="${"s".repeat(33)}","secret-pass",6,3`,
      'AT+CWSAP="","secret-pass",6,3',
      'AT+CWSAP="lab-ap","secret-pass",6',
      "AT+CWSAP=lab-ap,secret-pass,6,3",
    ])
      assert.equal(await uart.command(bad), ERROR, bad);
    assert.equal(await uart.command("AT+CWSAP?"), DEFAULT_AP, "no ERROR changed the SoftAP");

    assert.equal(await uart.command('AT+CWSAP="lab-ap","secret-pass",6,3,2,1'), OK);
    assert.equal(await uart.command("AT+CWSAP?"), '+CWSAP:"lab-ap","secret-pass",6,3,2,1\r\n\r\nOK\r\n');
    // An open SoftAP keeps no password; a 64-character one (a hex PSK) is taken.
    assert.equal(await uart.command('AT+CWSAP_CUR="open-ap","ignored-pass",11,0'), OK);
    assert.equal(await uart.command("AT+CWSAP_CUR?"), '+CWSAP_CUR:"open-ap","",11,0,4,0\r\n\r\nOK\r\n');
    assert.equal(await uart.command(`AT+CWSAP_CUR="hex-ap","${"a1".repeat(32)}",1,4,10`), OK);

    // After a restart: the mode and the last saved SoftAP (not the _CUR ones).
    assert.equal(await uart.command("AT+RST"), OK);
    await uart.expect("\r\nready\r\n");
    assert.equal(await uart.command("ATE0"), "ATE0\r\n\r\nOK\r\n");
    assert.equal(await uart.command("AT+CWMODE?"), "+CWMODE:2\r\n\r\nOK\r\n");
    assert.equal(await uart.command("AT+CWSAP_DEF?"), '+CWSAP_DEF:"lab-ap","secret-pass",6,3,2,1\r\n\r\nOK\r\n');
    assert.equal(sim!.stationJoin(PHONE), "192.168.4.2", "the SoftAP runs after the restart");
    await uart.expect(`+DIST_STA_IP:"${PHONE}","192.168.4.2"\r\n`);

    // SYSSTORE=0: CWSAP is not saved. New settings restart the SoftAP: its stations are sent off.
    assert.equal(await uart.command("AT+SYSSTORE=0"), OK);
    assert.equal(await uart.command('AT+CWSAP="ram-ap","secret-pass",3,4'), OK);
    await uart.expect(`+STA_DISCONNECTED:"${PHONE}"\r\n`);
    assert.equal(await uart.command("AT+CWSAP?"), '+CWSAP:"ram-ap","secret-pass",3,4,4,0\r\n\r\nOK\r\n');
    assert.equal(await uart.command("AT+RST"), OK);
    await uart.expect("\r\nready\r\n");
    assert.equal(await uart.command("ATE0"), "ATE0\r\n\r\nOK\r\n");
    assert.equal(await uart.command("AT+CWSAP?"), '+CWSAP:"lab-ap","secret-pass",6,3,2,1\r\n\r\nOK\r\n');

    // Station mode stops the SoftAP: no phone can join it.
    assert.equal(await uart.command("AT+CWMODE=1"), OK);
    assert.equal(await uart.command("AT+CWSAP?"), ERROR);
    assert.throws(() => sim!.stationJoin(PHONE), /the board's SoftAP is off \(Wi-Fi mode 1\): it needs AT\+CWMODE=2 or 3/);
  });

  it("announces phones that join, get an address and leave; lists them with CWLIF; CWQIF sends them off; max conn holds", async () => {
    const { uart, sim } = session;
    assert.equal(await uart.command("AT+CWMODE=2"), OK);
    assert.equal(await uart.command('AT+CWSAP="xsock-ap","secret-pass",5,3,2'), OK);
    assert.equal(await uart.command("AT+CWLIF"), OK, "no stations yet");

    assert.equal(sim!.stationJoin(PHONE.toUpperCase()), "192.168.4.2");
    assert.equal(await uart.expect(/DIST_STA_IP.*\r\n/), `+STA_CONNECTED:"${PHONE}"\r\n+DIST_STA_IP:"${PHONE}","192.168.4.2"\r\n`);
    assert.equal(sim!.stationJoin(TABLET), "192.168.4.3");
    assert.equal(await uart.expect(/DIST_STA_IP.*\r\n/), `+STA_CONNECTED:"${TABLET}"\r\n+DIST_STA_IP:"${TABLET}","192.168.4.3"\r\n`);
    assert.throws(() => sim!.stationJoin(LAPTOP), /the SoftAP is full: 2 stations at most/);
    assert.throws(() => sim!.stationJoin(PHONE), /is on the SoftAP already/);
    assert.equal(await uart.command("AT+CWLIF"), `+CWLIF:192.168.4.2,${PHONE}\r\n+CWLIF:192.168.4.3,${TABLET}\r\n\r\nOK\r\n`);

    sim!.stationLeave(PHONE);
    assert.equal(await uart.expect(/STA_DISCONNECTED.*\r\n/), `+STA_DISCONNECTED:"${PHONE}"\r\n`);
    assert.throws(() => sim!.stationLeave(PHONE), /is not on the SoftAP/);
    assert.equal(await uart.command("AT+CWLIF"), `+CWLIF:192.168.4.3,${TABLET}\r\n\r\nOK\r\n`);

    // A new phone takes the free address; CWQIF=<mac> sends one off.
    assert.equal(sim!.stationJoin(LAPTOP), "192.168.4.4");
    await uart.expect(`+DIST_STA_IP:"${LAPTOP}","192.168.4.4"\r\n`);
    assert.equal(await uart.command(`AT+CWQIF="${TABLET.toUpperCase()}"`), OK);
    assert.equal(await uart.expect(/STA_DISCONNECTED.*\r\n/), `+STA_DISCONNECTED:"${TABLET}"\r\n`);
    for (const bad of [`AT+CWQIF="${TABLET}"`, 'AT+CWQIF="aa:bb:cc"', "AT+CWQIF=1", `AT+CWQIF="${LAPTOP}",1`]) assert.equal(await uart.command(bad), ERROR, bad);

    // The phone that left gets its address again; CWQIF sends every station off.
    assert.equal(sim!.stationJoin(PHONE), "192.168.4.2");
    await uart.expect(`+DIST_STA_IP:"${PHONE}","192.168.4.2"\r\n`);
    assert.equal(await uart.command("AT+CWQIF"), OK);
    const gone = await uart.expect(/(\+STA_DISCONNECTED:.*\r\n){2}/);
    assert.deepEqual(gone.trim().split("\r\n").sort(), [`+STA_DISCONNECTED:"${LAPTOP}"`, `+STA_DISCONNECTED:"${PHONE}"`].sort());
    assert.equal(await uart.command("AT+CWLIF"), OK);

    // CWMODE=1 stops the SoftAP with a phone on it.
    sim!.stationJoin(TABLET);
    await uart.expect(`+DIST_STA_IP:"${TABLET}","192.168.4.3"\r\n`);
    assert.equal(await uart.command("AT+CWMODE=1"), `+STA_DISCONNECTED:"${TABLET}"\r\n${OK}`);
    assert.equal(await uart.command("AT+CWLIF"), OK);
    assert.equal(await uart.command("AT+CWQIF"), ERROR, "no SoftAP");
  });

  it("moves the SoftAP with CIPAP and its DHCP pool with CWDHCPS, which phones then get; CWDHCP's bit 1 stops the server; both kept across a restart", async () => {
    const { uart, sim } = session;
    assert.equal(await uart.command('AT+CIPAP="192.168.7.1"'), ERROR, "CIPAP needs SoftAP mode");
    assert.equal(await uart.command("AT+CWDHCPS?"), ERROR, "no SoftAP, no DHCP server");
    assert.equal(await uart.command("AT+CWMODE=2"), OK);
    assert.equal(await uart.command("AT+CWDHCPS?"), "+CWDHCPS:120,192.168.4.2,192.168.4.101\r\n\r\nOK\r\n", "ESP-IDF's pool and lease");

    assert.equal(await uart.command('AT+CWDHCPS=1,3,"192.168.4.10","192.168.4.15"'), OK);
    assert.equal(await uart.command("AT+CWDHCPS?"), "+CWDHCPS:3,192.168.4.10,192.168.4.15\r\n\r\nOK\r\n");
    assert.equal(sim!.stationJoin(PHONE), "192.168.4.10");
    await uart.expect(`+DIST_STA_IP:"${PHONE}","192.168.4.10"\r\n`);
    for (const bad of [
      'AT+CWDHCPS=1,3,"192.168.4.1","192.168.4.15"', // holds the SoftAP's own address
      'AT+CWDHCPS=1,3,"192.168.5.10","192.168.5.15"', // another subnet
      'AT+CWDHCPS=1,3,"192.168.4.2","192.168.4.102"', // 101 addresses
      'AT+CWDHCPS=1,0,"192.168.4.20","192.168.4.25"',
      'AT+CWDHCPS=1,3,"192.168.4.20"',
      'AT+CIPAP="192.168.7.1","192.168.7.1"',
      'AT+CIPAP="192.168.7.1","192.168.7.1","255.0.255.0"',
    ])
      assert.equal(await uart.command(bad), ERROR, bad);
    assert.equal(await uart.command("AT+CWDHCPS?"), "+CWDHCPS:3,192.168.4.10,192.168.4.15\r\n\r\nOK\r\n", "no ERROR changed the pool");

    // A new address: ESP-IDF's pool follows it, as the set one is outside its subnet.
    assert.equal(await uart.command('AT+CIPAP="192.168.7.1"'), OK);
    assert.equal(await uart.command("AT+CIPAP?"), '+CIPAP:ip:"192.168.7.1"\r\n+CIPAP:gateway:"192.168.7.1"\r\n+CIPAP:netmask:"255.255.255.0"\r\n\r\nOK\r\n');
    assert.equal(await uart.command("AT+CWDHCPS?"), "+CWDHCPS:3,192.168.7.2,192.168.7.101\r\n\r\nOK\r\n");
    assert.equal(sim!.stationJoin(TABLET), "192.168.7.2");
    await uart.expect(`+DIST_STA_IP:"${TABLET}","192.168.7.2"\r\n`);
    assert.match(await uart.command("AT+CIFSR"), /^\+CIFSR:APIP,"192\.168\.7\.1"\r\n/);

    // The server off: a phone joins and gets no address; CWDHCPS needs the server.
    assert.equal(await uart.command("AT+CWDHCP=0,2"), OK);
    assert.equal(await uart.command("AT+CWDHCP?"), "+CWDHCP:1\r\n\r\nOK\r\n");
    assert.equal(sim!.stationJoin(LAPTOP), "0.0.0.0");
    await uart.expect(`+STA_CONNECTED:"${LAPTOP}"\r\n`);
    assert.match(await uart.command("AT+CWLIF"), new RegExp(`\\+CWLIF:0\\.0\\.0\\.0,${LAPTOP}\r\n`));
    assert.doesNotMatch(uart.pending, /DIST_STA_IP/, "no address for the laptop");
    assert.equal(await uart.command("AT+CWDHCPS=0"), ERROR);
    assert.equal(await uart.command("AT+CWDHCP=1,2"), OK);
    assert.equal(await uart.command('AT+CWDHCPS_DEF=1,5,"192.168.7.20","192.168.7.30"'), OK);

    assert.equal(await uart.command("AT+RST"), OK);
    await uart.expect("\r\nready\r\n");
    assert.equal(await uart.command("ATE0"), "ATE0\r\n\r\nOK\r\n");
    assert.match(await uart.command("AT+CIPAP?"), /^\+CIPAP:ip:"192\.168\.7\.1"\r\n/, "the address was saved");
    assert.equal(await uart.command("AT+CWDHCPS?"), "+CWDHCPS:5,192.168.7.20,192.168.7.30\r\n\r\nOK\r\n", "the pool was saved");
    assert.equal(sim!.stationJoin(PHONE), "192.168.7.20");
    await uart.expect(`+DIST_STA_IP:"${PHONE}","192.168.7.20"\r\n`);
  });

  it("runs the station and the SoftAP together in CWMODE=3", async () => {
    const { uart, sim } = session;
    assert.equal(await uart.command("AT+CWMODE=3"), OK);
    assert.equal(await uart.command("AT+CWSAP?"), DEFAULT_AP);
    assert.equal(await uart.command('AT+CWJAP="xsock-sim",""'), JOINED);
    sim!.stationJoin(PHONE);
    await uart.expect(`+DIST_STA_IP:"${PHONE}","192.168.4.2"\r\n`);
    assert.match(await uart.command("AT+CWJAP?"), /^\+CWJAP:"xsock-sim","02:00:00:00:00:01",1,-40,/);
    assert.equal(await uart.command("AT+CIPSTATUS"), "STATUS:2\r\n\r\nOK\r\n");
    assert.equal(
      await uart.command("AT+CIFSR"),
      '+CIFSR:APIP,"192.168.4.1"\r\n+CIFSR:APMAC,"24:0a:c4:00:00:02"\r\n+CIFSR:STAIP,"127.0.0.1"\r\n+CIFSR:STAMAC,"24:0a:c4:00:00:01"\r\n\r\nOK\r\n',
      "CIFSR reports the running SoftAP",
    );
    // Leaving SoftAP mode keeps the station on its AP.
    assert.equal(await uart.command("AT+CWMODE=1"), `+STA_DISCONNECTED:"${PHONE}"\r\n${OK}`);
    assert.equal(await uart.command("AT+CWSTATE?"), '+CWSTATE:2,"xsock-sim"\r\n\r\nOK\r\n');
  });
});
