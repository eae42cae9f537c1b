// With a Moddable SDK installed ($MODDABLE), the apps must build with its tools, as on a board,
// and each board folder must resolve as a Moddable target to what its board file says.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { pathToFileURL } from "node:url";
import { BOARDS_DIR, boardIds, loadBoard } from "../../host-sim/board.ts";
import { readManifest } from "../../host-sim/firmware.ts";
import { sdkTarget } from "../helpers/board-manifest.ts";
import { ROOT } from "../helpers/sim.ts";

const sdk = process.env.MODDABLE;
const mcconfig = sdk ? join(sdk, "build/bin/lin/release/mcconfig") : "";
const apps = [".", ...readdirSync(join(ROOT, "examples")).map((name) => join("examples", name))];

/**
 * A copy of the example in a project of its own, with this checkout as its node_modules/xsock:
 * examples/ci includes xsock's manifests from there, as a user's project that installed it does.
 */
function asUsersProject(app: string): string {
  const project = mkdtempSync(join(tmpdir(), "xsock-project-"));
  cpSync(join(ROOT, app), project, { recursive: true });
  mkdirSync(join(project, "node_modules"));
  symlinkSync(ROOT, join(project, "node_modules/xsock"));
  return project;
}

describe("the Moddable SDK build (mcconfig -m -p lin -t build)", () => {
  for (const app of apps) {
    it(`builds ${app === "." ? "the root manifest" : app}`, function () {
      if (!sdk || !existsSync(mcconfig)) this.skip();
      this.timeout(600_000);
      const out = mkdtempSync(join(tmpdir(), "xsock-mcconfig-"));
      const run = spawnSync(mcconfig, ["-m", "-p", "lin", "-t", "build", "-o", out, "manifest.json"], {
        cwd: app === "examples/ci" ? asUsersProject(app) : join(ROOT, app),
        encoding: "utf8",
        // mcconfig runs the SDK's xsc and xsl, and tsc for the TypeScript modules.
        env: { ...process.env, PATH: `${join(sdk!, "build/bin/lin/release")}:${join(ROOT, "node_modules/.bin")}:${process.env.PATH}` },
      });
      assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
    });
  }
});

/** The folder mcconfig writes a build's files to under `-o out`: tmp/esp32/<target>/release/<app>. */
function buildDir(out: string, target: string): string {
  return join(out, "tmp/esp32", target, "release", basename(ROOT));
}

/** mc.defines.h's `#define MODDEF_ETHERNET_<NAME> <value>` lines, value as written ((1), SPI2_HOST). */
function ethernetDefines(text: string): Map<string, string> {
  return new Map([...text.matchAll(/^#define MODDEF_ETHERNET_(\w+) \(?([^()\n]+)\)?$/gm)].map((m) => [m[1], m[2]]));
}

/** The module specifiers the firmware's own files import, for a board, as the simulator reads its manifests. */
function firmwareImports(id: string): Set<string> {
  const imports = new Set<string>();
  for (const stem of readManifest(ROOT, loadBoard(id)).modules.values()) {
    const file = [".ts", ".js"].map((ext) => stem + ext).find((f) => existsSync(f));
    if (!file) continue;
    for (const m of readFileSync(file, "utf8").matchAll(/^\s*import\s+(?:[^"']*from\s+)?["']([^"'.][^"']*)["']/gm)) imports.add(m[1]);
  }
  return imports;
}

/** The file a makefile's rule for a module (`$(MODULES_DIR)/<name>.xsb`) compiles. */
function moduleSource(makefile: string, name: string): string | undefined {
  return new RegExp(`^\\$\\(MODULES_DIR\\)/${name.replace(/[~.]/g, "\\$&")}\\.xsb: (\\S+)`, "m").exec(makefile)?.[1];
}

describe("the boards' Moddable targets (mcconfig -p esp32:boards/esp32/<board> -t build, no -m)", function () {
  this.timeout(120_000);
  const env = () => ({ ...process.env, PATH: `${join(sdk!, "build/bin/lin/release")}:${join(ROOT, "node_modules/.bin")}:${process.env.PATH}` });
  before(function () {
    if (!sdk || !existsSync(mcconfig)) this.skip();
  });

  for (const id of boardIds()) {
    it(`${id}: picks its driver, chip files, SDK target, defines, config and creation, and compiles its own modules`, async () => {
      const board = loadBoard(id);
      const target = id.split("/")[1];
      const out = mkdtempSync(join(tmpdir(), "xsock-board-"));
      const run = spawnSync(mcconfig, ["-p", `esp32:${join(BOARDS_DIR, id)}`, "-t", "build", "-o", out, "manifest.json"], { cwd: ROOT, encoding: "utf8", env: env() });
      assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
      const dir = buildDir(out, target);
      const makefile = readFileSync(join(dir, "makefile"), "utf8");

      // Every module the firmware imports is in the build (mc/config is generated).
      const built = new Set([...makefile.matchAll(/^\$\(MODULES_DIR\)\/(\S+)\.xsb:/gm)].map((m) => m[1].replace(/^~\.embedded\//, "embedded:")));
      assert.deepEqual([...firmwareImports(id)].filter((name) => !built.has(name) && name !== "mc/config"), [], "imported but not in the makefile");

      // The network driver behind xsock/netif, and Moddable's Ethernet chip files.
      assert.match(moduleSource(makefile, "xsock/netif") ?? "", new RegExp(`/drivers/${board.network.driver}/netif\\.js$`));
      const chips = new Set([...makefile.matchAll(/modules\/network\/ethernet\/esp32\/drivers\/(\w+)\//g)].map((m) => m[1]));
      const ethernet = board.network.driver === "ethernet/esp32" ? board.network : undefined;
      assert.deepEqual([...chips], ethernet ? [ethernet.phy === "W5500" ? "w5500" : "enc28j60"] : []);

      // The SDK target it builds on: ESP32_SUBCLASS for its chip, the target's sdkconfig folder, its host provider.
      const subclass = board.chip.toLowerCase().replace("-", "");
      assert.match(makefile, new RegExp(`^ESP32_SUBCLASS = ${subclass}$`, "m"));
      const targetDir = join(sdk!, "build/devices/esp32/targets", sdkTarget(board));
      const targetBuild = (JSON.parse(readFileSync(join(targetDir, "manifest.json"), "utf8")) as { build?: Record<string, string> }).build ?? {};
      const sdkconfig = targetBuild.SDKCONFIGPATH?.replace("$(MODDABLE)", sdk!) ?? join(sdk!, "build/devices/esp32", `xsProj-${subclass}`);
      assert.match(makefile, new RegExp(`^SDKCONFIGPATH = ${sdkconfig}$`, "m"));
      assert.equal(moduleSource(makefile, "xsock/target/provider"), join(targetDir, "host/provider.js"));
      assert.equal(moduleSource(makefile, "~.embedded/provider/builtin"), join(BOARDS_DIR, id, "host/provider.js"));

      // What ethernet.c reads.
      const defines = ethernetDefines(readFileSync(join(dir, "mc.defines.h"), "utf8"));
      if (ethernet?.spi) {
        const spi = ethernet.spi as Record<string, number>;
        assert.equal(defines.get("W5500"), ethernet.phy === "W5500" ? "1" : "0");
        assert.equal(defines.get("ENC28J60"), ethernet.phy === "ENC28J60" ? "1" : "0");
        assert.deepEqual(
          ["SPI_SCK_PIN", "SPI_MOSI_PIN", "SPI_MISO_PIN", "SPI_CS_PIN", "INT_PIN", "HZ", "SPI_PORT"].map((name) => defines.get(name)),
          [spi.sclk, spi.mosi, spi.miso, spi.cs, spi.int, spi.hz].map(String).concat(spi.host === 2 ? "SPI3_HOST" : "SPI2_HOST"),
        );
        assert.equal(defines.get("POWER_PIN"), spi.reset === undefined ? undefined : String(spi.reset));
        assert.equal(defines.get("INTERNAL_PHY_ADDRESS"), undefined, "no EMAC");
      } else if (ethernet) {
        const emac = ethernet as Record<string, unknown>;
        assert.deepEqual(
          ["INTERNAL_PHY_ADDRESS", "INTERNAL_PHY_RESET", "INTERNAL_MAC_MDC", "INTERNAL_MAC_MDIO"].map((name) => defines.get(name)),
          [emac.phyAddress, emac.power ?? emac.reset, emac.mdc, emac.mdio].map(String),
        );
        assert.equal(defines.get(`INTERNAL_PHY_${ethernet.phy === "LAN8720" ? "LAN87XX" : ethernet.phy}`), "1");
        assert.equal(defines.get("INTERNAL_PHY_GPIO0_CLOCK_INPUT"), emac.clock === "gpio0-in" ? "1" : undefined);
      } else assert.equal(defines.size, 0, "no Ethernet on a Wi-Fi board");

      // mc/config as the firmware reads it, and XS's creation sizes.
      const config = join(out, "mc.config.mjs");
      writeFileSync(config, readFileSync(join(dir, "mc.config.js"), "utf8"));
      const read = ((await import(pathToFileURL(config).href)) as { default: Record<string, unknown> }).default;
      assert.deepEqual([read.board, read.console, read.can, read.limits], [{ id: board.id, name: board.name, chip: board.chip }, board.console, board.can, board.limits]);
      const creation = (JSON.parse(readFileSync(join(dir, "manifest_flat.json"), "utf8")) as { creation: { chunk: { initial: number; incremental: number }; heap: { initial: number; incremental: number }; stack: number } }).creation;
      assert.deepEqual([creation.chunk, creation.heap, creation.stack], [{ initial: board.limits.xs.chunk, incremental: 0 }, { initial: board.limits.xs.heap, incremental: 0 }, board.limits.xs.stack]);

      // The makefile's xsc steps for the board's own modules. make reads ESP-IDF's version
      // (git describe in $IDF_PATH) when it parses the makefile; these steps use nothing else of
      // it, so an empty git repository stands for it. xsl cannot run: it waits on sdkconfig.h,
      // which only ESP-IDF's idf.py writes.
      const idf = mkdtempSync(join(tmpdir(), "xsock-no-idf-"));
      assert.equal(spawnSync("git", ["-c", "user.name=xsock", "-c", "user.email=xsock@localhost", "-C", idf, "init", "-q"]).status, 0);
      assert.equal(spawnSync("git", ["-c", "user.name=xsock", "-c", "user.email=xsock@localhost", "-C", idf, "commit", "-q", "--allow-empty", "-m", "version"]).status, 0);
      const modules = ["mc/config", "~.embedded/provider/builtin", "xsock/target/provider", "xsock/netif"].map((name) => join(dir, "modules", `${name}.xsb`));
      const make = spawnSync("make", ["-f", join(dir, "makefile"), ...modules], { cwd: dir, encoding: "utf8", env: { ...env(), IDF_PATH: idf } });
      assert.equal(make.status, 0, `${make.stdout}\n${make.stderr}`);
      for (const file of modules) assert.ok(existsSync(file), file);
    });
  }

  for (const id of boardIds().filter((id) => !loadBoard(id).target)) {
    it(`${id}: as the SDK's own target (mcconfig -p ${id}), the root manifest still picks its driver`, () => {
      const out = mkdtempSync(join(tmpdir(), "xsock-board-"));
      const run = spawnSync(mcconfig, ["-p", id, "-t", "build", "-o", out, "manifest.json"], { cwd: ROOT, encoding: "utf8", env: env() });
      assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
      const makefile = readFileSync(join(buildDir(out, id.split("/")[1]), "makefile"), "utf8");
      assert.match(moduleSource(makefile, "xsock/netif") ?? "", new RegExp(`/drivers/${loadBoard(id).network.driver}/netif\\.js$`));
    });
  }
});
