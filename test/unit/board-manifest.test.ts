// Each board folder is a Moddable target (`mcconfig -p esp32:boards/esp32/<board>`): its
// manifest.json must say what its board.json says, and the root manifest must send the board to
// its network driver. test/sim/mcconfig.test.ts runs the real mcconfig on them when $MODDABLE is set.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { BOARDS_DIR, boardIds, loadBoard, type Board } from "../../host-sim/board.ts";
import { matchPlatform, readManifest } from "../../host-sim/firmware.ts";
import { boardManifestProblems, ETHERNET_MODULE, ETHERNET_MODULE_W5500, ethernetModule, readBoardManifest, type Json } from "../helpers/board-manifest.ts";
import { ROOT } from "../helpers/sim.ts";

const readJson = (path: string) => JSON.parse(readFileSync(path, "utf8")) as Json;
const clone = (value: Json) => structuredClone(value) as Json & { config: Json; creation: Json; defines: { ethernet: Json } };

/** The driver manifests the root manifest's platform section for the board includes. */
function driverManifests(board: Board): string[] {
  const root = readJson(join(ROOT, "manifest.json"));
  const section = matchPlatform(root.platforms as Record<string, { include?: string[] }>, board.id);
  return (section?.include ?? []).filter((path) => path.startsWith("./drivers/"));
}

describe("board manifests (boards/<id>/manifest.json, the board's Moddable target)", () => {
  for (const id of boardIds()) {
    it(`${id}: agrees with its board.json (SDK target, config, creation, Ethernet defines)`, () => {
      assert.deepEqual(boardManifestProblems(loadBoard(id), readBoardManifest(id)), []);
    });
  }

  it("gives each board folder the host provider mcconfig looks for in a target folder, the SDK target's", () => {
    for (const id of boardIds()) {
      const provider = join(BOARDS_DIR, id, "host/provider.js");
      assert.ok(existsSync(provider), `${id} has no host/provider.js ($(SUBPLATFORMDIRECTORY)/host/provider)`);
      assert.match(readFileSync(provider, "utf8"), /^export \{ default \} from "xsock\/target\/provider";$/m, id);
    }
  });

  it("names the field where a manifest and its board file part: console and CAN pins, creation, Ethernet pins, PHY, chip files", () => {
    const wt32 = loadBoard("esp32/wt32_eth01");
    const emac = clone(readBoardManifest("esp32/wt32_eth01"));
    (emac.config.console as Json).receive = 16;
    (emac.config.can as Json).transmit = 21;
    (emac.creation.heap as Json).initial = 8192;
    const internal = emac.defines.ethernet.internal as { phy: Json; mac: Json };
    internal.mac.MDIO = 19;
    delete internal.phy.LAN87XX;
    internal.phy.IP101 = 1;
    assert.deepEqual(boardManifestProblems(wt32, emac), [
      "config.console.receive: has 16, board.json means 5",
      "config.can.transmit: has 21, board.json means 32",
      "creation.heap.initial: has 8192, board.json means 4928",
      "defines.ethernet.internal.phy.LAN87XX: has undefined, board.json means 1",
      "defines.ethernet.internal.phy.IP101: has 1, board.json means undefined",
      "defines.ethernet.internal.mac.MDIO: has 19, board.json means 18",
    ]);

    const s3 = loadBoard("esp32/esp32s3_eth");
    const spi = clone(readBoardManifest("esp32/esp32s3_eth"));
    spi.include = [(spi.include as string[])[0], ETHERNET_MODULE];
    (spi.defines.ethernet.spi as Json).cs_pin = 10;
    spi.defines.ethernet.int_pin = 14;
    assert.deepEqual(boardManifestProblems(s3, spi), [
      `include: has ${JSON.stringify(spi.include)}, board.json means ${JSON.stringify([(spi.include as string[])[0], ETHERNET_MODULE_W5500])}`,
      "defines.ethernet.int_pin: has 14, board.json means 10",
      "defines.ethernet.spi.cs_pin: has 10, board.json means 14",
    ]);
  });

  it("builds the S3 Ethernet board on Moddable's esp32s3 target and the ENC28J60 board on its nodemcu", () => {
    assert.equal((readBoardManifest("esp32/esp32s3_eth").include as string[])[0], "$(MODDABLE)/build/devices/esp32/targets/esp32s3/manifest.json");
    assert.equal((readBoardManifest("esp32/nodemcu_enc28j60").include as string[])[0], "$(MODDABLE)/build/devices/esp32/targets/nodemcu/manifest.json");
  });
});

describe("the root manifest's driver per board", () => {
  for (const id of boardIds()) {
    it(`${id}: xsock/netif is its network driver, with the Ethernet chip files its board manifest brings`, () => {
      const board = loadBoard(id);
      // The simulator reads the manifests as mcconfig does (matchPlatform): the module behind xsock/netif.
      const netif = readManifest(ROOT, board).modules.get("xsock/netif");
      assert.equal(netif, join(ROOT, "drivers", board.network.driver, "netif"));
      const drivers = driverManifests(board);
      assert.equal(drivers.length, 1, `${id}: one driver manifest, not ${drivers.join(", ")}`);
      const driver = readJson(join(ROOT, drivers[0]));
      const esp32 = matchPlatform(driver.platforms as Record<string, { include?: string[] }>, board.id);
      const wanted = ethernetModule(board);
      // A board built as esp32:<folder> includes the same Moddable module first (its defines then win
      // over the module's defaults); the driver's include of it adds nothing then. They must agree.
      const modules = (esp32?.include ?? []).filter((path) => path.startsWith("$(MODDABLE)/modules/network/ethernet/"));
      assert.deepEqual(modules, wanted ? [wanted] : [], `${id}: ${drivers[0]}`);
    });
  }

  it("sends the W5500 board to the W5500 files and the ENC28J60 and EMAC boards to Moddable's default ones", () => {
    assert.deepEqual(driverManifests(loadBoard("esp32/esp32s3_eth")), ["./drivers/ethernet/esp32/manifest_w5500.json"]);
    for (const id of ["esp32/nodemcu_enc28j60", "esp32/wt32_eth01", "esp32/ethernet_kit"]) assert.deepEqual(driverManifests(loadBoard(id)), ["./drivers/ethernet/esp32/manifest.json"], id);
    for (const id of ["esp32/nodemcu", "esp32/esp32s3"]) assert.deepEqual(driverManifests(loadBoard(id)), ["./drivers/wifi/esp32/manifest.json"], id);
  });
});
