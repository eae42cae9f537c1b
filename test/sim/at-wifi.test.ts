// The console's Wi-Fi commands, over the pty with serialport, on the simulator's access points.
import assert from "node:assert/strict";
import { JOINED, withConsole } from "../helpers/console.ts";
import { simOnly } from "../helpers/target.ts";

describe("console Wi-Fi commands", function () {
  before(function () {
    simOnly(this); // the simulated APs
  });
  this.timeout(20000);
  // Two APs: the default open one, and a WPA2 one.
  const session = withConsole({ sim: { aps: ["xsock-sim", "lab:secret-pass"] }, join: false });

  it("needs an AP for links, joins one, reports it without its password, and leaves it", async () => {
    const { uart } = session;
    assert.equal(await uart.command("AT+CWMODE?"), "+CWMODE:1\r\n\r\nOK\r\n");
    assert.equal(await uart.command("AT+CWJAP?"), "No AP\r\n\r\nOK\r\n");
    assert.equal(await uart.command("AT+CIPSTATUS"), "STATUS:5\r\n\r\nOK\r\n");
    assert.equal(await uart.command('AT+CIPSTART="TCP","127.0.0.1",80'), "\r\nERROR\r\n", "no IP, no link");
    assert.equal(await uart.command('AT+CIFSR'), '+CIFSR:STAIP,"0.0.0.0"\r\n+CIFSR:STAMAC,"24:0a:c4:00:00:01"\r\n\r\nOK\r\n');

    assert.equal(await uart.command('AT+CWJAP="lab","wrong-pass"'), "+CWJAP:2\r\n\r\nERROR\r\n", "wrong password");
    assert.equal(await uart.command('AT+CWJAP="nowhere","whatever1"'), "+CWJAP:3\r\n\r\nERROR\r\n", "no such AP");
    assert.equal(await uart.command("AT+CWSTATE?"), '+CWSTATE:4,"nowhere"\r\n\r\nOK\r\n', "<\"ssid\">: the target AP's, joined or not");
    assert.equal(await uart.command('AT+CWJAP="lab","secret-pass"'), JOINED);
    const joined = await uart.command("AT+CWJAP?");
    assert.equal(joined, '+CWJAP:"lab","02:00:00:00:00:02",6,-47,0,1,3,0,1\r\n\r\nOK\r\n');
    assert.ok(!joined.includes("secret"), "a query never prints the password");
    assert.equal(await uart.command("AT+CWJAP_CUR?"), '+CWJAP_CUR:"lab","02:00:00:00:00:02",6,-47\r\n\r\nOK\r\n');
    assert.equal(await uart.command("AT+CWSTATE?"), '+CWSTATE:2,"lab"\r\n\r\nOK\r\n');
    assert.equal(await uart.command("AT+CIPSTA?"), '+CIPSTA:ip:"127.0.0.1"\r\n+CIPSTA:gateway:"127.0.0.1"\r\n+CIPSTA:netmask:"255.255.255.0"\r\n\r\nOK\r\n');
    assert.equal(await uart.command("AT+CIFSR"), '+CIFSR:STAIP,"127.0.0.1"\r\n+CIFSR:STAMAC,"24:0a:c4:00:00:01"\r\n\r\nOK\r\n');
    assert.equal(await uart.command("AT+CIPSTATUS"), "STATUS:2\r\n\r\nOK\r\n");

    // Joining another AP leaves this one first.
    assert.equal(await uart.command('AT+CWJAP_CUR="xsock-sim",""'), `WIFI DISCONNECT\r\n${JOINED}`);
    assert.equal(await uart.command("AT+CWQAP"), "\r\nOK\r\n");
    assert.equal(await uart.expect("WIFI DISCONNECT\r\n"), "WIFI DISCONNECT\r\n");
    assert.equal(await uart.command("AT+CWJAP?"), "No AP\r\n\r\nOK\r\n");
    // AT+CWJAP with no parameters joins the last AP again.
    assert.equal(await uart.command("AT+CWJAP"), JOINED);
  });

  it("lists access points with CWLAP, filtered by CWLAPOPT and by SSID", async () => {
    const { uart } = session;
    assert.equal(
      await uart.command("AT+CWLAP"),
      '+CWLAP:(0,"xsock-sim",-40,"02:00:00:00:00:01",1,0,0,0,0,7,0)\r\n+CWLAP:(3,"lab",-47,"02:00:00:00:00:02",6,0,0,4,4,7,0)\r\n\r\nOK\r\n',
    );
    assert.equal(await uart.command('AT+CWLAP="lab"'), '+CWLAP:(3,"lab",-47,"02:00:00:00:00:02",6,0,0,4,4,7,0)\r\n\r\nOK\r\n');
    assert.equal(await uart.command("AT+CWLAPOPT=1,31,-45"), "\r\nOK\r\n");
    assert.equal(await uart.command("AT+CWLAP"), '+CWLAP:(0,"xsock-sim",-40,"02:00:00:00:00:01",1)\r\n\r\nOK\r\n');
    assert.equal(await uart.command("AT+CWLAPOPT=1,4096"), "\r\nERROR\r\n");
  });

  it("answers ERROR to bad Wi-Fi commands and keeps serving", async () => {
    const { uart } = session;
    for (const bad of [
      "AT+CWMODE=4",
      "AT+CWMODE=1,2",
      `AT+CWJAP="${"x".repeat(33)}",""`,
      'AT+CWJAP="lab","secret-pass","not-a-mac"',
      'AT+CWJAP="lab","secret-pass",,,7201',
      'AT+CWJAP="lab',
      "AT+CWAUTOCONN=2",
      "AT+CWJAP", // no AP configured yet
    ])
      assert.equal(await uart.command(bad), "\r\nERROR\r\n", bad);
    assert.equal(await uart.command("AT+CWMODE=2"), "\r\nOK\r\n");
    assert.equal(await uart.command('AT+CWJAP="xsock-sim",""'), "\r\nERROR\r\n", "CWJAP needs station mode");
    assert.equal(await uart.command("AT+CWMODE=1"), "\r\nOK\r\n");
    assert.equal(await uart.command("AT"), "\r\nOK\r\n");
  });
});
