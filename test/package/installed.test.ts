// xsock as users meet it: `npm pack`, installed into a fresh project (a path with capitals)
// as `npm install --save-dev xsock` would, then the default firmware, the API from ESM and
// CommonJS, and `xsock init`'s project (xsock's examples/ci) with its own npm test.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { installXsock, ok, packXsock, run, userProject } from "../helpers/package.ts";
import { runAddress } from "../helpers/ports.ts";
import { ROOT } from "../helpers/sim.ts";

describe("the npm package, installed in a user's project", function () {
  this.timeout(300000);
  let dir: string;
  let project: string;
  let tarball: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "Xsock-Package-"));
    tarball = await packXsock(dir);
    project = await userProject(dir, tarball);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("ships compiled JavaScript with declarations, the firmware's sources, and no tests", () => {
    const pkg = join(project, "node_modules/xsock");
    for (const file of ["dist/host-sim/cli.js", "dist/host-sim/api.js", "dist/host-sim/api.d.ts", "host-sim/xs/bridge.ts", "src/socket/manifest.json", "tsconfig.app.json", "types/moddable.d.ts", "examples/ci/manifest.json"])
      assert.ok(existsSync(join(pkg, file)), `no ${file} in the package`);
    for (const file of ["test", "bench", "tsconfig.json", "host-sim/cli.ts", "dist/test"]) assert.ok(!existsSync(join(pkg, file)), `${file} is in the package`);
    // Its install script has linked its XS worker (the board's heap) from the engine's objects.
    assert.ok(existsSync(join(pkg, "host-sim/worker/build/xsock-worker")), "xsock's install did not build host-sim/worker/build/xsock-worker");
  });

  it("runs `xsock --help`, and boots the ESP-AT firmware with `xsock sim`", async () => {
    assert.match(await ok("npx", ["xsock", "--help"], project), /Usage: xsock .*\n[\s\S]*\binit\b/);
    const out = await ok("npx", ["xsock", "sim", "--expect-text", "ready", "--timeout", "30000"], project);
    assert.match(out, /expected text seen: "ready"/);
  });

  it("runs one of the package's examples by its folder, and gives a missing include's manifest and path, exit 2", async () => {
    const out = await ok("npx", ["xsock", "sim", "examples/udp-client", "--expect-text", "Enter message to send", "--timeout", "30000"], project);
    assert.match(out, /expected text seen/);
    const app = join(project, "broken");
    mkdirSync(app);
    writeFileSync(join(app, "manifest.json"), JSON.stringify({ include: ["./node_modules/xsock/src/no-such/manifest.json"], modules: { "*": "./main" } }));
    const r = await run("npx", ["xsock", "sim", "broken", "--timeout", "30000"], project);
    assert.equal(r.code, 2, r.out);
    assert.equal(r.out.trim(), `xsock sim: ${join(app, "manifest.json")} includes ${join(app, "node_modules/xsock/src/no-such/manifest.json")}, which does not exist`);
  });

  it("imports xsock/sim from an ES module and requires it from CommonJS", async () => {
    const body = (load: string) =>
      `${load}\n(async () => {\n  const board = await startSim();\n  await board.uart.expect("ready");\n  board.uart.write("AT+GMR\\r\\n");\n  const reply = await board.uart.expect(/OK\\r\\n/);\n  await board.stop();\n  console.log(JSON.stringify(reply));\n})();\n`;
    writeFileSync(join(project, "boot.mjs"), body('import { startSim } from "xsock/sim";'));
    writeFileSync(join(project, "boot.cjs"), body('const { startSim } = require("xsock/sim");'));
    for (const file of ["boot.mjs", "boot.cjs"]) assert.match(await ok(process.execPath, [file], project), /AT version:.*OK/s, file);
  });

  it("makes a project with `xsock init` whose npm test passes: type check, scenario with JUnit, node:test; and a mocha suite", async () => {
    await ok("npx", ["xsock", "init", "Fw"], project);
    const fw = join(project, "Fw");
    assert.equal((await run("npx", ["xsock", "init", "Fw"], project)).code, 2);
    await installXsock(fw, tarball);
    // The scenario names the app's fixed ports (7000, 7001), as a user's does: its board takes
    // this run's own address (--ip), so that another run's on the same ports does not meet it.
    const manifest = join(fw, "package.json");
    const pkg = JSON.parse(readFileSync(manifest, "utf8")) as { scripts: Record<string, string> };
    pkg.scripts.scenario += ` --ip ${runAddress()}`;
    writeFileSync(manifest, JSON.stringify(pkg, null, 2));
    const out = await ok("npm", ["test"], fw, 180000);
    assert.match(out, /scenario "ci-demo" passed: 14 of 14 steps passed/);
    assert.match(out, /# pass 3\n# fail 0/);
    assert.match(readFileSync(join(fw, "results.xml"), "utf8"), /<testsuite name="ci-demo" tests="14" failures="0"/);
    // The mocha example of docs/ci.md, run by this checkout's mocha: xsock/sim from the project's node_modules.
    writeFileSync(
      join(fw, "test/mocha.spec.js"),
      'import assert from "node:assert/strict";\nimport { startSim } from "xsock/sim";\n\ndescribe("ci-demo on mocha", function () {\n  this.timeout(20000);\n  it("answers ping", async () => {\n    const board = await startSim({ app: ".", config: { port: 0, udpPort: 0 } });\n    await board.uart.expect(/ci-demo ready.*\\r\\n/);\n    board.uart.write("ping\\r\\n");\n    assert.equal(await board.uart.expect(/\\r\\n/), "pong\\r\\n");\n    await board.stop();\n  });\n});\n',
    );
    assert.match(await ok(process.execPath, [join(ROOT, "node_modules/mocha/bin/mocha.js"), "--no-config", "test/mocha.spec.js"], fw), /1 passing/);
  });
});
