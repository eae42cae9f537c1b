// What every xsock command shares: --help with examples, the common options, exit code 2
// for usage errors; and `xsock list` and `xsock test` as a user runs them.
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runXsock, startSim } from "../helpers/sim.ts";

const COMMANDS = ["sim", "list", "console", "build", "flash", "test"];

describe("the xsock command line", function () {
  this.timeout(30000);

  for (const command of COMMANDS) {
    it(`${command} --help shows the common options and an example`, async () => {
      const run = await runXsock([command, "--help"]);
      assert.equal(run.code, 0, run.stderr);
      for (const option of ["-v, --verbose", "-q, --quiet", "--no-color", "--ci", "--no-ci"]) assert.ok(run.stdout.includes(option), `${command} --help has ${option}`);
      assert.match(run.stdout, new RegExp(`\\nExamples?:\\n {2}\\$ xsock ${command}`));
    });
  }

  it("lists every command in xsock --help", async () => {
    const run = await runXsock(["--help"]);
    assert.equal(run.code, 0);
    for (const command of COMMANDS) assert.match(run.stdout, new RegExp(`^ {2}${command}\\b`, "m"));
  });

  it("ends usage errors with exit code 2", async () => {
    for (const args of [["list", "--nope"], ["nosuch"], ["test", "--host-ip", "somewhere"], ["console", "--link", "9", "x"]]) {
      const run = await runXsock(args);
      assert.equal(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
    }
  });

  it("list --json prints a JSON array of the ports, and never crashes without udevadm", async () => {
    const run = await runXsock(["list", "--json"]);
    assert.equal(run.code, 0, run.stderr);
    const ports = JSON.parse(run.stdout) as { path: string }[];
    assert.ok(Array.isArray(ports) && ports.every((p) => typeof p.path === "string"));
  });

  it("test without a port skips the board tests (exit 0), and refuses a port that is not there", async () => {
    const env = { ...process.env };
    delete env.TEST_PORT;
    const skipped = await runXsock(["test"], { env });
    assert.equal(skipped.code, 0);
    assert.match(skipped.stderr, /no board port \(--port or TEST_PORT\): the board tests are skipped/);
    const missing = await runXsock(["test", "--port", "/dev/ttyNOSUCH", "--ssid", "lab"], { env });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^xsock test: no port \/dev\/ttyNOSUCH/);
  });

  it("test --port runs the console suites on a board: here a simulated one, reached through its pty link", async () => {
    const link = join(mkdtempSync(join(tmpdir(), "xsock-hil-")), "esp32");
    const sim = await startSim(["--uart-link", link]);
    try {
      const run = await runXsock(["test", "--port", link, "--host-ip", "127.0.0.1", "--ssid", "xsock-sim", "--no-color", "--grep", "single TCP link|AT with OK|ERROR to a command"], {
        timeout: 25000,
      });
      assert.equal(run.code, 0, run.stdout + run.stderr);
      assert.match(run.stderr, new RegExp(`-- the console suites on ${link} \\(peers at 127\\.0\\.0\\.1, AP xsock-sim\\)`));
      assert.match(run.stdout, /✔ opens a single TCP link, sends with CIPSEND, receives \+IPD, and closes/);
      assert.match(run.stdout, /✔ answers AT with OK, echoing the command/);
      assert.match(run.stdout, /\n {2}3 passing/);
      assert.doesNotMatch(sim.log, /firmware: /, "the board never failed");
    } finally {
      await sim.stop();
    }
  });
});
