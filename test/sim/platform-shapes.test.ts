// The simulator refuses what Moddable refuses: each platform module's proxy has exactly the
// exports, statics and prototype members of Moddable's module (host-sim/sdk/shapes.ts), and a
// module the app's manifests do not include is not importable.
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startSim } from "xsock/sim";
import { loadBoard } from "../../host-sim/board.ts";
import { buildFirmware, PLATFORM_MODULES, readManifest } from "../../host-sim/firmware.ts";
import { MODULE_SHAPES } from "../../host-sim/sdk/shapes.ts";
import { ROOT } from "../helpers/sim.ts";

interface Seen {
  named: string[];
  default?: { kind: string; statics: string[]; prototype?: string[] };
}

/** The members a native module's esp32 JavaScript declares: `name(...) @ "xs_..."`. */
function nativeMembers(path: string): string[] {
  const text = readFileSync(join(ROOT, path), "utf8");
  return [...text.matchAll(/^\s+(?:get |set )?(\w+)\([^)]*\)\s*@/gm)].map((m) => m[1]).filter((n) => n !== "constructor").sort();
}

describe("platform modules as Moddable has them", () => {
  let seen: { shapes: Record<string, Seen>; globals: Record<string, string[]> };
  before(async () => {
    const sim = await startSim({ app: "test/fixtures/shapes" });
    try {
      seen = JSON.parse((await sim.waitLog(/shapes: (.*)\n/))[1]) as typeof seen;
    } finally {
      await sim.stop();
    }
  });

  it("has a shape in the table for every module the simulator provides", () => {
    assert.deepEqual(Object.keys(PLATFORM_MODULES).sort(), Object.keys(MODULE_SHAPES).sort());
    assert.deepEqual(Object.keys(seen.shapes).sort(), Object.keys(MODULE_SHAPES).sort(), "the fixture imports each of them");
  });

  for (const [specifier, shape] of Object.entries(MODULE_SHAPES)) {
    it(`${specifier}: the exports of Moddable's ${shape.source.esp32}`, () => {
      const got = seen.shapes[specifier];
      if (shape.source.esp32.startsWith("drivers/")) {
        // xsock's own native module: the proxy has what its esp32 JavaScript declares.
        assert.equal(got.default?.kind, "class");
        assert.deepEqual(got.default?.prototype, nativeMembers(shape.source.esp32));
        return;
      }
      assert.deepEqual(got.named, shape.named ?? [], "named exports");
      assert.deepEqual(got.default, shape.default && { ...shape.default, statics: [...shape.default.statics].sort(), ...(shape.default.prototype && { prototype: [...shape.default.prototype].sort() }) }, "the default export");
      for (const [name, statics] of Object.entries(shape.globals ?? {})) assert.deepEqual(seen.globals[name], [...statics].sort(), `the global ${name}`);
    });
  }

  it("has the project's own .d.ts files for Moddable's modules agree with the table on default exports", () => {
    const dir = join(ROOT, "src/types");
    for (const file of readdirSync(dir).filter((f) => f.endsWith(".d.ts"))) {
      const text = readFileSync(join(dir, file), "utf8");
      for (const [, specifier, body] of text.matchAll(/declare module "([^"]+)" \{([^]*?)(?=declare module|$(?![^]))/g)) {
        const shape = MODULE_SHAPES[specifier];
        if (!shape) continue;
        assert.equal(/export default/.test(body), shape.default !== undefined, `${file}: "${specifier}" ${shape.default ? "has" : "has no"} default export in Moddable`);
      }
    }
  });

  describe("a module the manifests do not include", () => {
    let app: string;
    before(() => {
      app = mkdtempSync(join(tmpdir(), "xsock-Shapes-"));
      writeFileSync(join(app, "main.js"), `import Instrumentation from "instrumentation";\ntrace(String(Instrumentation.map("Turns")));\n`);
    });
    after(() => rmSync(app, { recursive: true, force: true }));

    it("is not found, with XS's words and the manifest that brings it", async () => {
      writeFileSync(join(app, "manifest.json"), JSON.stringify({ include: ["$(MODDABLE)/examples/manifest_base.json"], modules: { "*": "./main" } }));
      await assert.rejects(buildFirmware(app, loadBoard()), /module "instrumentation" not found: include \$\(MODDABLE\)\/modules\/base\/instrumentation\/manifest\.json/);
    });

    it("is found once its manifest is included", async () => {
      writeFileSync(join(app, "manifest.json"), JSON.stringify({ include: ["$(MODDABLE)/modules/base/instrumentation/manifest.json"], modules: { "*": "./main" } }));
      await buildFirmware(app, loadBoard());
    });

    it("names the manifest whose include does not exist", async () => {
      writeFileSync(join(app, "manifest.json"), JSON.stringify({ include: ["./missing/manifest.json"], modules: { "*": "./main" } }));
      await assert.rejects(buildFirmware(app, loadBoard()), (e: Error) => e.message.includes(join(app, "manifest.json")) && e.message.includes(join(app, "missing", "manifest.json")));
    });

    it("stops at an SDK manifest with no section for the platform: ota is on esp32 only", () => {
      const ota = { include: ["$(MODDABLE)/build/devices/esp32/modules/ota/manifest.json"], modules: { "*": "./main" } };
      writeFileSync(join(app, "manifest.json"), JSON.stringify(ota));
      assert.equal(readManifest(app, loadBoard()).sdkModules.get("ota"), "$(MODDABLE)/build/devices/esp32/modules/ota/manifest.json");
      assert.throws(() => readManifest(app, { ...loadBoard(), id: "lin" }), /ota\/manifest\.json: ESP32 OTA is not supported on this platform/);
      // The firmware takes it on esp32 only, and its own stand-in on lin.
      assert.match(readManifest(ROOT, loadBoard()).modules.get("xsock/ota")!, /src\/ota\/esp32$/);
      const lin = readManifest(ROOT, { ...loadBoard(), id: "lin" });
      assert.match(lin.modules.get("xsock/ota")!, /src\/ota\/lin$/);
      assert.equal(lin.sdkModules.has("ota"), false);
    });
  });

});

describe("preloaded modules as XS's linker leaves them", () => {
  it("makes a preloaded Set or Map read-only, and freezes built-ins and preloaded classes; the rest stays writable", async () => {
    const sim = await startSim({ app: "test/fixtures/preload" });
    try {
      await sim.waitLog(/preload: done/);
      const log = sim.log;
      assert.match(log, /preloaded Set add: TypeError: this: read-only Set instance/);
      assert.match(log, /preloaded Map set: TypeError: this: read-only Map instance/);
      assert.match(log, /preloaded object: ok/, "an object is aliased in RAM");
      assert.match(log, /run-time Set add: ok/);
      assert.match(log, /class static: TypeError/);
      assert.match(log, /Array\.prototype: TypeError/);
      assert.match(log, /Error name: TypeError/, "the override mistake, as Moddable's preload doc shows");
    } finally {
      await sim.stop();
    }
  });
});
