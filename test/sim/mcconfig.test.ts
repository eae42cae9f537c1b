// With a Moddable SDK installed ($MODDABLE), the root manifest must build with its tools.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../helpers/sim.ts";

describe("the Moddable SDK build", () => {
  it("builds the root manifest with mcconfig -m -p lin -t build", function () {
    const sdk = process.env.MODDABLE;
    const mcconfig = sdk && join(sdk, "build/bin/lin/release/mcconfig");
    if (!mcconfig || !existsSync(mcconfig)) this.skip();
    this.timeout(600_000);
    const out = mkdtempSync(join(tmpdir(), "xsock-mcconfig-"));
    const run = spawnSync(mcconfig, ["-m", "-p", "lin", "-t", "build", "-o", out, join(ROOT, "manifest.json")], {
      cwd: ROOT,
      encoding: "utf8",
      // mcconfig runs the SDK's xsc and xsl, and tsc for the TypeScript modules.
      env: { ...process.env, PATH: `${join(sdk!, "build/bin/lin/release")}:${join(ROOT, "node_modules/.bin")}:${process.env.PATH}` },
    });
    assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
  });
});
