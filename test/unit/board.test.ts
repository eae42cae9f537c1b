import assert from "node:assert/strict";
import fc from "fast-check";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { boardIds, checkBoard, loadBoard } from "../../host-sim/board.ts";
import { runs } from "../helpers/fuzz.ts";

const MCP2515_FIXTURE = fileURLToPath(new URL("../fixtures/boards/nodemcu-mcp2515.json", import.meta.url));

describe("board files", () => {
  it("has a valid board.json for every board folder, named after its Moddable target", () => {
    const ids = boardIds();
    assert.deepEqual(ids, ["esp32/esp32s3", "esp32/esp32s3_eth", "esp32/ethernet_kit", "esp32/nodemcu", "esp32/nodemcu_enc28j60", "esp32/wt32_eth01"]);
    for (const id of ids) assert.equal(loadBoard(id).id, id);
  });

  it("gives each board lwIP's 10 sockets and ESP-AT's 5 links", () => {
    for (const id of boardIds()) assert.deepEqual([loadBoard(id).limits.sockets, loadBoard(id).limits.links], [10, 5], id);
  });

  it("names every bad field", () => {
    const good = loadBoard("esp32/wt32_eth01");
    const bad = { ...good, chip: "ESP8266", console: { ...good.console, baud: "fast" }, extra: 1, network: { driver: "ethernet/esp32", phy: "RTL8201" } };
    assert.throws(() => checkBoard(bad, "bad.json"), (e: Error) => {
      assert.match(e.message, /chip: must be equal to one of the allowed values \(ESP32, /);
      assert.match(e.message, /console\.baud: must be integer/);
      assert.match(e.message, /unknown field "extra"/);
      assert.match(e.message, /network\.phy: must be equal to one of the allowed values/);
      return true;
    });
  });

  it("takes an MCP2515 on SPI: its pins, INT line and crystal (the test fixture's module on VSPI)", () => {
    const board = loadBoard(MCP2515_FIXTURE);
    assert.deepEqual(board.can, { driver: "mcp2515", spi: { clock: 18, out: 23, in: 19, port: 2 }, select: 5, interrupt: 4, oscillator: 8000000, bitrate: 500000 });
  });

  it("names what is wrong in an MCP2515's section, and only the MCP2515's choice", () => {
    const good = loadBoard(MCP2515_FIXTURE);
    const can = { ...good.can };
    const bad = { ...good, can: { ...can, interrupt: undefined, transmit: 21, spi: { clock: 18, out: 23 } } };
    assert.throws(() => checkBoard(JSON.parse(JSON.stringify(bad)), "bad.json"), (e: Error) => {
      assert.match(e.message, /can: missing field "interrupt"/);
      assert.match(e.message, /can: unknown field "transmit"/);
      assert.match(e.message, /can\.spi: missing field "in"/);
      assert.doesNotMatch(e.message, /missing field "receive"/, "nothing from TWAI's choice");
      return true;
    });
    assert.throws(() => checkBoard({ ...good, can: { ...can, bitrate: 1000000 } }, "fast.json"), /can\.bitrate: must be equal to one of the allowed values \(25000, 50000, 100000, 125000, 250000, 500000\)/);
    assert.equal(checkBoard({ ...good, can: { ...can, oscillator: 16000000, bitrate: 1000000 } }, "16mhz.json").can.bitrate, 1000000);
    assert.throws(() => checkBoard({ ...good, can: { ...can, oscillator: 12000000 } }, "12mhz.json"), /can\.oscillator: must be equal to one of the allowed values \(8000000, 16000000, 20000000\)/);
  });

  it("refuses any malformed board file with its own error, never another (fuzz)", () => {
    const good = loadBoard("esp32/nodemcu") as unknown as Record<string, unknown>;
    // Whole values, and a good board with one field replaced by anything.
    const mutated = fc.tuple(fc.constantFrom(...Object.keys(good)), fc.jsonValue()).map(([k, v]) => ({ ...good, [k]: v }));
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), mutated), (data) => {
        try {
          checkBoard(data, "fuzz.json");
        } catch (e) {
          assert.match((e as Error).message, /^bad board file fuzz\.json:\n {2}\S/);
        }
      }),
      { numRuns: runs(2000) },
    );
  });
});

describe("the README's board table", () => {
  const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
  const rows = new Map(
    [...readme.matchAll(/^\| `(esp32\/\w+)`[^|]*\|[^|]*\| ([^|]+) \| UART(\d), GPIO(\d+)\/(\d+) \| TWAI, GPIO(\d+)\/(\d+) \| Moddable's `(esp32\/\w+)`[^|]*\|$/gm)].map((m) => [m[1], m]),
  );

  it("has a row for every board, with its console UART and CAN pins", () => {
    assert.deepEqual([...rows.keys()].sort(), boardIds());
    for (const id of boardIds()) {
      const board = loadBoard(id);
      const [, , , port, tx, rx, canTx, canRx] = rows.get(id)!.map(Number);
      assert.equal(board.can.driver, "twai", id);
      if (board.can.driver !== "twai") continue;
      assert.deepEqual([port, tx, rx, canTx, canRx], [board.console.port, board.console.transmit, board.console.receive, board.can.transmit, board.can.receive], id);
    }
  });

  it("names the Moddable target each board builds on, as its board file does", () => {
    for (const id of boardIds()) {
      const board = loadBoard(id);
      assert.equal(rows.get(id)![8], board.target ?? board.id, id);
    }
  });

  it("names each board's network driver, PHY and Ethernet pins as its board file does", () => {
    for (const id of boardIds()) {
      const network = loadBoard(id).network as Record<string, unknown> & { driver: string; spi?: Record<string, number> };
      const text = rows.get(id)![2];
      if (network.driver === "wifi/esp32") {
        assert.equal(text, "Wi-Fi", id);
        continue;
      }
      assert.match(text, new RegExp(`^Ethernet, ${String(network.phy)} `), id);
      const listed = Object.fromEntries([...text.matchAll(/(\w+) (\d+)/g)].map((m) => [m[1].toLowerCase(), Number(m[2])]));
      const pins = network.spi ?? { mdc: network.mdc as number, mdio: network.mdio as number, ...(network.power === undefined ? {} : { power: network.power as number }), ...(network.reset === undefined ? {} : { reset: network.reset as number }) };
      for (const [name, pin] of Object.entries(pins)) if (!["host", "hz"].includes(name)) assert.equal(listed[name], pin, `${id} ${name}`);
    }
  });
});
