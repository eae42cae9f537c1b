// How `xsock console` reads the ESP-AT console's output: lines, and what each one is.
import assert from "node:assert/strict";
import { classify, LineSplitter } from "../../host-sim/serial/at-lines.ts";

describe("the console's lines", () => {
  it("tells final results, AT messages, the prompt and replies apart", () => {
    for (const line of ["OK", "SEND OK"]) assert.equal(classify(line), "ok", line);
    for (const line of ["ERROR", "SEND FAIL", "busy p...", "ERR CODE:0x01090000"]) assert.equal(classify(line), "error", line);
    for (const line of ["ready", "WIFI CONNECTED", "WIFI GOT IP", "WIFI DISCONNECT", "CONNECT", "2,CONNECT", "0,CLOSED", "+IPD,5:hello", "+IPD,0,11", "Recv 5 bytes", '+LINK_CONN:0,0,"TCP",0,"127.0.0.1",7,0', "+CANRX:123,2,AABB", '+CANERR:"bus-off",255,0'])
      assert.equal(classify(line), "message", line);
    assert.equal(classify(">"), "prompt");
    for (const line of ["+CIPMUX:1", "STATUS:2", "AT+GMR", "+CWJAP:1", '+CANCFG:500000,0,"error-active",0,0']) assert.equal(classify(line), "reply", line);
  });

  it("cuts CR-LF lines across chunks, leaves blank lines out, and hands over an open line when the port goes quiet", async () => {
    const lines: string[] = [];
    const splitter = new LineSplitter((l) => lines.push(l), 20);
    splitter.push("AT+CIPSEND=5\r");
    splitter.push("\n\r\nOK\r\n\r\n>");
    assert.deepEqual(lines, ["AT+CIPSEND=5", "OK"], "the prompt waits for more");
    await new Promise((r) => setTimeout(r, 60));
    assert.deepEqual(lines, ["AT+CIPSEND=5", "OK", ">"], "then comes as it is");
    splitter.push("\r\n+IPD,5:hel");
    splitter.push("lo\r\nCLOSED\n");
    assert.deepEqual(lines.slice(3), ["+IPD,5:hello", "CLOSED"]);
  });
});
