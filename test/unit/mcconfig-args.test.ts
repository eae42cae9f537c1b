// mcconfig's command line for a board: -p esp32:<board folder> for a board in boards/, the name
// as it is otherwise, and a path mcconfig's lowercasing of -p leaves intact.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { BOARDS_DIR } from "../../host-sim/board.ts";
import { mcconfigArgs, mcconfigPlatform, SetupError } from "../../host-sim/moddable.ts";
import { ROOT } from "../helpers/sim.ts";

/** A boards folder under `parent` with one board folder, esp32/<name>, that has a manifest.json. */
function boards(parent: string, folder: string, name: string): string {
  const dir = join(parent, folder);
  mkdirSync(join(dir, "esp32", name), { recursive: true });
  writeFileSync(join(dir, "esp32", name, "manifest.json"), "{}");
  return dir;
}

describe("mcconfig's arguments for a board", () => {
  it("names a board of boards/ by its folder, and anything else by its name", () => {
    // The checkout's own board folder: absolute, or relative to the app where its path has capitals.
    const dir = join(BOARDS_DIR, "esp32/wt32_eth01");
    assert.equal(mcconfigPlatform("esp32/wt32_eth01", ROOT), `esp32:${dir === dir.toLowerCase() ? dir : relative(ROOT, dir)}`);
    assert.equal(mcconfigPlatform("esp32/m5stack", ROOT), "esp32/m5stack");
    assert.equal(mcconfigPlatform("lin", ROOT), "lin");
  });

  it("gives the folder relative to the app when its path has capitals, and refuses when both have", () => {
    const top = mkdtempSync(join(tmpdir(), "xsock-Checkout-"));
    const dir = boards(top, "boards", "enc");
    assert.equal(mcconfigPlatform("esp32/enc", top, dir), "esp32:boards/esp32/enc");
    assert.equal(mcconfigPlatform("esp32/enc", join(top, "examples/tcp-echo"), dir), "esp32:../../boards/esp32/enc");
    const capital = boards(top, "Boards", "enc");
    assert.throws(() => mcconfigPlatform("esp32/enc", top, capital), (e: Error) => {
      assert.ok(e instanceof SetupError);
      assert.match(e.message, /^mcconfig lowercases -p, and the board folder .*\/Boards\/esp32\/enc has capitals in its path, also from .*: put this checkout and the app under lower-case paths$/);
      return true;
    });
  });

  it("puts -p, -t build (unless it flashes), -d and -v before the manifest, and the config pairs after", () => {
    const request = { app: ROOT, board: "esp32/nodemcu", platform: "esp32:/src/boards/esp32/nodemcu", deploy: false, config: ["ssid=lab"] };
    assert.deepEqual(mcconfigArgs(request), ["-m", "-p", "esp32:/src/boards/esp32/nodemcu", "-t", "build", "manifest.json", "ssid=lab"]);
    assert.deepEqual(mcconfigArgs({ ...request, deploy: true, debug: true, verbose: true }), ["-d", "-m", "-p", "esp32:/src/boards/esp32/nodemcu", "-v", "manifest.json", "ssid=lab"]);
    assert.deepEqual(mcconfigArgs({ app: ROOT, board: "lin", deploy: false }), ["-m", "-p", "lin", "-t", "build", "manifest.json"], "without a platform, the board's name");
  });
});
