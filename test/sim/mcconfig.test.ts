// With a Moddable SDK installed ($MODDABLE), the apps must build with its tools, as on a board.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../helpers/sim.ts";

const sdk = process.env.MODDABLE;
const mcconfig = sdk ? join(sdk, "build/bin/lin/release/mcconfig") : "";
const apps = [".", ...readdirSync(join(ROOT, "examples")).map((name) => join("examples", name))];

describe("the Moddable SDK build (mcconfig -m -p lin -t build)", () => {
  for (const app of apps) {
    it(`builds ${app === "." ? "the root manifest" : app}`, function () {
      if (!sdk || !existsSync(mcconfig)) this.skip();
      this.timeout(600_000);
      const out = mkdtempSync(join(tmpdir(), "xsock-mcconfig-"));
      const run = spawnSync(mcconfig, ["-m", "-p", "lin", "-t", "build", "-o", out, "manifest.json"], {
        cwd: join(ROOT, app),
        encoding: "utf8",
        // mcconfig runs the SDK's xsc and xsl, and tsc for the TypeScript modules.
        env: { ...process.env, PATH: `${join(sdk!, "build/bin/lin/release")}:${join(ROOT, "node_modules/.bin")}:${process.env.PATH}` },
      });
      assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
    });
  }
});
