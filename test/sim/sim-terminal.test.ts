// `xsock sim` (npm start) with its UART on a real terminal (tmux): a line editor with history,
// the console's echo shown once, the payload prompt after `>`, and --raw's bytes as typed.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { until } from "../helpers/console.ts";
import { tcpPeer } from "../helpers/peer.ts";
import { have, needs, ROOT, runXsock, XSOCK } from "../helpers/sim.ts";
import { Terminal } from "../helpers/tmux.ts";

describe("xsock sim on a terminal", function () {
  this.timeout(60000);
  let dir: string;
  let term: Terminal | undefined;

  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), "xsock-sim-terminal-"))));
  afterEach(() => {
    term?.kill();
    term = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  const simOnTerminal = (ctx: Mocha.Context, args = "") => {
    needs(ctx, "tmux", have("tmux"));
    term = Terminal.start(`cd ${ROOT} && env -u NO_COLOR -u CI XDG_CONFIG_HOME=${dir} ${process.execPath} ${XSOCK} sim -q ${args}`);
    return term;
  };

  it("edits the line before Enter sends it: Backspace, arrows and history stay on this side of the UART", async function () {
    const t = simOnTerminal(this);
    await t.waitFor(/^ready$/m);
    t.keys("-l", "AT+GMX");
    t.keys("BSpace");
    t.keys("-l", "R");
    t.keys("Enter");
    const screen = await t.waitFor(/^AT version:.*\n(.*\n)*OK$/m);
    assert.doesNotMatch(screen, /^ERROR$/m);
    assert.equal(screen.match(/^AT\+GMR$/gm)?.length, 1, `the typed line shows once, not again as the console's echo:\n${screen}`);
    t.keys("-l", "AT+CIPMUX?");
    t.keys("Left", "Left", "BSpace", "Enter");
    await t.waitFor(/^ERROR$/m);
    t.keys("Up", "Up", "Enter");
    await t.waitFor(/^AT\+GMR\n(.*\n)*OK\n(.*\n)*ERROR\n(.*\n)*AT\+GMR\n/m);
    t.keys("C-c");
    await t.waitFor(/^exit=0$/m);
    assert.equal(readFileSync(join(dir, "xsock", "console_history"), "utf8"), "AT+CIPMX?\nAT+GMR\n", "oldest first; AT+GMR again is the newest");
  });

  it("after `>`, counts the payload down in its prompt, and Enter sends CR-LF where it fits", async function () {
    const peer = await tcpPeer();
    const t = simOnTerminal(this);
    await t.waitFor(/^ready$/m);
    t.type('AT+CWJAP="xsock-sim",""');
    await t.waitFor(/WIFI GOT IP\n(.*\n)*OK$/m);
    t.type(`AT+CIPSTART="TCP","127.0.0.1",${peer.port}`);
    await t.waitFor(/^CONNECT\n(.*\n)*OK$/m);
    t.type("AT+CIPSEND=9");
    await t.waitFor(/^payload, 9 bytes left .*>\s*$/m);
    t.type("hi\\x21");
    await t.waitFor(/^payload, 4 bytes left .*>\s*$/m);
    t.type("toolong");
    await t.waitFor(/-- not sent: 7 bytes typed, but the board expects 4 more/);
    t.type("ok");
    await t.waitFor(/^SEND OK$/m);
    t.type("AT");
    await t.waitFor(/^SEND OK\nAT\n\nOK$/m);
    await until(() => peer.heard().length === 9, "9 bytes at the peer");
    assert.equal(peer.heard().toString("latin1"), "hi!\r\nok\r\n");
    peer.server.close();
  });

  it("with --raw, sends the bytes as typed: Backspace reaches the console, which has no line editor", async function () {
    const t = simOnTerminal(this, "--raw");
    await t.waitFor(/^ready$/m);
    t.keys("-l", "AT+GMX");
    t.keys("BSpace");
    t.keys("-l", "R");
    t.keys("Enter");
    await t.waitFor(/^ERROR$/m);
    t.keys("C-c");
    await t.waitFor(/^exit=0$/m);
  });

  it("from a pipe, passes stdin's bytes as they are: a backspace byte reaches the console", async () => {
    const { code, stdout } = await runXsock(["sim", "-q", "--expect-text", "ERROR", "--timeout", "20000"], { input: "AT+GMX\bR\r\n" });
    assert.equal(code, 0);
    assert.ok(stdout.includes("AT+GMX\bR\r\n\r\nERROR\r\n"), stdout);
  });
});
