import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadBoard } from "../../host-sim/board.ts";
import { buildFirmware, readManifest } from "../../host-sim/firmware.ts";
import { ROOT } from "../helpers/sim.ts";

describe("firmware build", () => {
  const board = loadBoard("esp32/nodemcu");

  it("names modules from the root manifest as mcconfig does", () => {
    const { modules } = readManifest(ROOT, board);
    const names = [...modules.keys()].sort();
    for (const name of ["at/basic", "at/console", "at/links", "at/parser", "at/tcpip", "main", "version", "xsock/socket", "xsock/uart"]) assert.ok(names.includes(name), name);
  });

  it("bundles the root app with the board's config in mc/config, and maps each line back to its source", async () => {
    const { app: firmware, bridge } = await buildFirmware(ROOT, board, { extra: 42 });
    assert.doesNotMatch(firmware.code, /host-sim\/xs\/codec\.ts/, "the codec lives in the bridge, outside the firmware's heap count");
    assert.match(bridge.code, /host-sim\/xs\/codec\.ts/);
    assert.match(firmware.code, /"console": \{ "port": 1, "transmit": 17, "receive": 16, "cts": 15, "rts": 14, "baud": 115200 \}/);
    assert.match(firmware.code, /"extra": 42/);
    assert.doesNotMatch(firmware.code, /__privateGet/, "private fields stay native: XS has them");
    const line = firmware.code.split("\n").findIndex((l) => l.includes("busy p...")) + 1;
    assert.match(firmware.source(line) ?? "", /src\/at\/console\.ts:\d+$/);
  });

  describe("built again in one process", () => {
    let app: string;
    before(() => {
      app = mkdtempSync(join(tmpdir(), "xsock-build-"));
      mkdirSync(join(app, "lib"));
      writeFileSync(join(app, "manifest.json"), JSON.stringify({ include: ["$(MODDABLE)/examples/manifest_base.json"], modules: { "*": "./main", "lib/*": "./lib/*" } }));
      writeFileSync(join(app, "main.js"), 'import word from "lib/word";\ntrace(word);\n');
      writeFileSync(join(app, "lib", "word.js"), 'export default "one";\n');
    });
    after(() => rmSync(app, { recursive: true, force: true }));

    it("is the same firmware, also for builds at once, until a file the build read changes", async () => {
      const first = await buildFirmware(app, board);
      const again = await Promise.all([buildFirmware(app, board), buildFirmware(app, board)]);
      assert.ok(again.every((f) => f === first));
      assert.notEqual(await buildFirmware(app, board, { other: 1 }), first, "another config is another firmware");
      writeFileSync(join(app, "lib", "word.js"), 'export default "two!";\n');
      const changed = await buildFirmware(app, board);
      assert.match(changed.app.code, /"two!"/);
      // A .ts beside the .js takes its place, as mcconfig's search finds it first.
      writeFileSync(join(app, "lib", "word.ts"), 'export default "three";\n');
      assert.match((await buildFirmware(app, board)).app.code, /"three"/);
    });
  });
});
