// `xsock console` against a simulator's pty: typed into a real terminal (tmux), piped, and
// sending a file; the reconnect path with the simulator restarted under the same --uart-link.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { until } from "../helpers/console.ts";
import { tcpPeer } from "../helpers/peer.ts";
import { have, needs, ROOT, runXsock, startSim, XSOCK, type SimProcess } from "../helpers/sim.ts";
import { Terminal } from "../helpers/tmux.ts";
import { listPorts } from "../../host-sim/serial/ports.ts";

const JOIN = 'AT+CWJAP="xsock-sim",""';

describe("xsock console", function () {
  this.timeout(30000);
  let dir: string;
  let link: string;
  let sim: SimProcess;
  let term: Terminal | undefined;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "xsock-console-"));
    link = join(dir, "esp32");
    sim = await startSim(["--uart-link", link]);
  });
  afterEach(async () => {
    term?.kill();
    term = undefined;
    await sim.stop();
  });

  /** `xsock console LINK` on a terminal, with its history under the test's own config dir. */
  const consoleOnTerminal = (ctx: Mocha.Context) => {
    needs(ctx, "tmux", have("tmux"));
    term = Terminal.start(`cd ${ROOT} && env -u NO_COLOR -u CI XDG_CONFIG_HOME=${dir} ${process.execPath} ${XSOCK} console ${link}`);
    return term;
  };

  it("takes typed commands on a terminal: OK in green, ERROR in red, no echo twice, history kept, Ctrl-] quits", async function () {
    const t = consoleOnTerminal(this);
    await t.waitFor(/Ctrl-\] quits/);
    // The boot's ready, held for a client that has yet to open the pty, comes before anything is typed.
    await t.waitFor(/^ready$/m);
    t.type("AT");
    await t.waitFor(/^OK$/m);
    t.type("AT+NOSUCH");
    const screen = await t.waitFor(/^ERROR$/m);
    const colours = t.screen(true);
    // tmux draws a line's colour as its own run of SGR sequences before the text.
    const colourOf = (text: string) => colours.split("\n").find((l) => l.endsWith(`m${text}`))?.match(/\[(3\d)m/)?.[1];
    assert.equal(colourOf("OK"), "32", "OK is green");
    assert.equal(colourOf("ERROR"), "31", "ERROR is red");
    assert.equal(colourOf("ready"), "33", "ready, an AT message, is yellow");
    assert.match(screen, /^esp32> AT$/m, "the typed line stays");
    assert.doesNotMatch(screen, /^AT$/m, "the console's echo is not shown again");
    t.keys("C-]");
    await t.waitFor(/^exit=0$/m);
    assert.equal(readFileSync(join(dir, "xsock", "console_history"), "utf8"), "AT\nAT+NOSUCH\n");

    // A new session starts with that history: Up brings back the last command.
    t.kill();
    const again = consoleOnTerminal(this);
    await again.waitFor(/Ctrl-\] quits/);
    again.keys("Up");
    await again.waitFor(/esp32> AT\+NOSUCH$/m);
  });

  it("says when the port goes away, and reconnects when the simulator comes back on the same --uart-link", async function () {
    const t = consoleOnTerminal(this);
    await t.waitFor(/Ctrl-\] quits/);
    // The boot's ready, held for a client that has yet to open the pty, comes before anything is typed.
    await t.waitFor(/^ready$/m);
    t.type("AT");
    await t.waitFor(/^OK$/m);
    await sim.stop();
    await t.waitFor(new RegExp(`-- ${link} went away; waiting for it to come back`));
    assert.equal(existsSync(link), false, "the simulator removed its link at exit");

    sim = await startSim(["--uart-link", link]);
    await t.waitFor(new RegExp(`-- ${link} is back\nready$`, "m"));
    t.type("AT+CIPSTATUS");
    const screen = await t.waitFor(/is back[^]*STATUS:5\nOK$/m);
    assert.match(screen, /is back\nready\nesp32> AT\+CIPSTATUS\nSTATUS:5\nOK/, `the new board answers:\n${screen}`);
  });

  it("runs piped commands one at a time, each waiting for its result; ERROR makes the exit code 1", async () => {
    const env = { ...process.env, NO_COLOR: "1" };
    const ok = await runXsock(["console", link], { input: "ATE0\nAT\nAT+CIPMUX?\n", env });
    assert.equal(ok.code, 0, ok.stderr);
    // The boot's ready, printed before the port was opened, is dropped when the client writes within 50 ms (as on a board, where it is gone).
    assert.equal(ok.stdout.replace(/^ready\n/, ""), "ATE0\nOK\nOK\n+CIPMUX:0\nOK\n");
    const bad = await runXsock(["console", link], { input: "AT+NOSUCH\nAT\n", env });
    assert.equal(bad.code, 1, bad.stderr);
    assert.equal(bad.stdout, "ERROR\nOK\n", "it carries on after an ERROR");
  });

  it("on a terminal, after `>` shows the bytes the payload still needs, and Enter sends CR-LF where it fits", async function () {
    const peer = await tcpPeer();
    const t = consoleOnTerminal(this);
    await t.waitFor(/Ctrl-\] quits/);
    t.type(JOIN);
    await t.waitFor(/WIFI GOT IP\n(.*\n)*OK$/m);
    t.type(`AT+CIPSTART="TCP","127.0.0.1",${peer.port}`);
    await t.waitFor(/^CONNECT\n(.*\n)*OK$/m);
    t.type("AT+CIPSEND=9");
    await t.waitFor(/payload, 9 bytes left .*>\s*$/m);
    t.type("hi\\x21");
    await t.waitFor(/payload, 4 bytes left .*>\s*$/m);
    t.type("toolong");
    await t.waitFor(/-- not sent: 7 bytes typed, but the board expects 4 more/);
    t.type("ok");
    await t.waitFor(/^SEND OK\nesp32>\s*$/m);
    t.type("AT");
    await t.waitFor(/^SEND OK\n(.*\n)*OK\nesp32>\s*$/m);
    await until(() => peer.heard().length === 9, "9 bytes at the peer");
    assert.equal(peer.heard().toString("latin1"), "hi!\r\nok\r\n");
    peer.server.close();
  });

  it("takes a piped payload as typed: escapes, CR-LF where it fits, until the announced length; a short or long one fails, with no hang", async () => {
    const peer = await tcpPeer();
    const env = { ...process.env, NO_COLOR: "1" };
    const open = `ATE0\n${JOIN}\nAT+CIPSTART="TCP","127.0.0.1",${peer.port}\n`;
    // 14 bytes and CR-LF, then an empty line's CR-LF: the 18 bytes announced. AT after it is a command again.
    const run = await runXsock(["console", link], { input: `${open}AT+CIPSEND=18\nGET / HTTP/1.0\n\nAT\nAT+CIPSEND=6\n\\x00\\tab\\r\\n\n`, env });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /Recv 18 bytes\nSEND OK\nOK\n/, run.stdout);
    await until(() => peer.heard().length === 24, "24 bytes at the peer");
    assert.equal(peer.heard().toString("latin1"), "GET / HTTP/1.0\r\n\r\n\x00\tab\r\n");

    const short = await runXsock(["console", link], { input: "AT+CIPSEND=10\nabc\n", env });
    assert.equal(short.code, 1, short.stdout);
    assert.equal(short.stderr, "xsock console: the input ended while the board still expects 5 bytes of the payload\n");
    // The board still waits for those 5 bytes: they end the send, and nothing was lost.
    const rest = await runXsock(["console", link], { input: "AT+CIPSEND=3\n", env });
    assert.equal(rest.code, 1, "AT+CIPSEND=3\r\n is the payload that was owed; then the rest of the line is a command");
    await until(() => peer.heard().length === 34, "the 10 bytes at the peer");
    assert.equal(peer.heard().subarray(24).toString("latin1"), "abc\r\nAT+CI");

    const long = await runXsock(["console", link], { input: "AT+CIPSEND=4\nhello\n", env });
    assert.equal(long.code, 1);
    assert.equal(long.stderr, 'xsock console: 5 bytes typed, but the board expects 4 more (the line: "hello")\n');
    peer.server.close();
  });

  it("after --send, shows the peer's reply for --wait ms", async () => {
    const peer = await tcpPeer();
    peer.server.on("connection", (c) => c.on("data", (d) => c.write(`echo:${d.toString()}`)));
    const file = join(dir, "hello.txt");
    writeFileSync(file, "hello");
    const env = { ...process.env, NO_COLOR: "1" };
    const run = await runXsock(["console", link, "-c", JOIN, "-c", `AT+CIPSTART="TCP","127.0.0.1",${peer.port}`, "--send", file, "--wait", "3000"], { env });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /\+IPD,10:echo:hello/);
    peer.server.close();
  });

  it("sends a file as CIPSEND payloads of at most 8192 bytes, or in passthrough, byte for byte", async () => {
    const peer = await tcpPeer();
    const file = join(dir, "payload.bin");
    const data = randomBytes(20000);
    writeFileSync(file, data);
    const env = { ...process.env, NO_COLOR: "1" };
    const run = await runXsock(["console", link, "-c", JOIN, "-c", `AT+CIPSTART="TCP","127.0.0.1",${peer.port}`, "--send", file, "-v"], { env });
    assert.equal(run.code, 0, run.stderr);
    await until(() => peer.heard().length === data.length, "20000 bytes at the peer");
    assert.ok(peer.heard().equals(data));
    assert.deepEqual(run.stdout.match(/^Recv \d+ bytes$/gm), ["Recv 8192 bytes", "Recv 8192 bytes", "Recv 3616 bytes"], "three CIPSENDs, the last one short");
    assert.match(run.stderr, /-- sent payload\.bin, 19\.5 KiB in/);

    // Passthrough: CIPMODE=1 for the send, +++ to leave, and CIPMODE back as it was.
    const through = await runXsock(["console", link, "--send", file, "--passthrough", "-c", "AT+CIPMODE?"], { env });
    assert.equal(through.code, 0, through.stderr);
    await until(() => peer.heard().length === 2 * data.length, "the file again at the peer");
    assert.ok(peer.heard().subarray(data.length).equals(data));
    const mode = await runXsock(["console", link, "-c", "ATE0", "-c", "AT+CIPMODE?"], { env });
    assert.match(mode.stdout, /\+CIPMODE:0\nOK\n$/, "CIPMODE is back to 0");
    peer.server.close();
  });

  it("fails with what to do: no link open for --send, a port that is not there, no port to pick", async () => {
    const file = join(dir, "small.txt");
    writeFileSync(file, "hello");
    const noLink = await runXsock(["console", link, "--send", file]);
    assert.equal(noLink.code, 1);
    assert.match(noLink.stderr, /^xsock console: --send .*small\.txt: AT\+CIPSEND=5 got ERROR: is a link open \(AT\+CIPSTART\)/m);
    assert.doesNotMatch(noLink.stderr, /\n\s+at /, "no stack trace");

    const missing = await runXsock(["console", join(dir, "nothing")]);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, `xsock console: no port ${join(dir, "nothing")} (xsock list shows the serial ports)\n`);

    const usage = await runXsock(["console", link, "--baud", "fast"]);
    assert.equal(usage.code, 2, "a usage error");
    assert.match(usage.stderr, /a baud rate from 300 to 5000000/);
  });

  it("without a PORT and with no one to ask, fails unless exactly one port looks like an ESP32", async function () {
    if ((await listPorts()).filter((p) => p.bridge).length === 1) this.skip(); // it would open that board
    const run = await runXsock(["console"], { input: "AT\n" });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^xsock console: (no serial ports found|no ESP32-like port among|several ESP32-like ports).*xsock console PORT/);
  });
});
