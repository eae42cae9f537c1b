// What a board's manifest.json (boards/<id>/manifest.json, the Moddable target `mcconfig -p
// esp32:<folder>` builds) must say for its board.json, and where the two disagree.
import { readFileSync } from "node:fs";
import { isDeepStrictEqual } from "node:util";
import { join } from "node:path";
import { BOARDS_DIR, type Board } from "../../host-sim/board.ts";
import { firmwareConfig } from "../../host-sim/firmware.ts";

/** Moddable's Ethernet module: its manifest.json has the ENC28J60 files, manifest.json_w5500 the W5500's. */
export const ETHERNET_MODULE = "$(MODDABLE)/modules/network/ethernet/manifest.json";
export const ETHERNET_MODULE_W5500 = "$(MODDABLE)/modules/network/ethernet/manifest.json_w5500";

/** The PHY defines modules/network/ethernet/esp32/ethernet.c switches on (MODDEF_ETHERNET_INTERNAL_PHY_<name>). */
const EMAC_PHY_DEFINES: Record<string, string> = { LAN8720: "LAN87XX", IP101: "IP101" };

export type Json = Record<string, unknown>;

export function readBoardManifest(id: string): Json {
  return JSON.parse(readFileSync(join(BOARDS_DIR, id, "manifest.json"), "utf8")) as Json;
}

/** The SDK target a board builds on (esp32/nodemcu), as a folder name under build/devices/esp32/targets. */
export function sdkTarget(board: Board): string {
  return (board.target ?? board.id).split("/")[1];
}

/** Moddable's Ethernet module manifest a board needs, if it is an Ethernet board. */
export function ethernetModule(board: Board): string | undefined {
  if (board.network.driver !== "ethernet/esp32") return undefined;
  return board.network.phy === "W5500" ? ETHERNET_MODULE_W5500 : ETHERNET_MODULE;
}

interface SpiWiring {
  host?: number;
  sclk: number;
  mosi: number;
  miso: number;
  cs: number;
  int: number;
  reset?: number;
  hz?: number;
}

/**
 * The `defines.ethernet` that ethernet.c reads for the board: the EMAC's MDC/MDIO and PHY
 * (address, reset or power pin, the PHY's flag, GPIO0 as the RMII clock input), or the SPI
 * chip's bus, pins and clock (the module's manifest gives the command and address bits).
 */
export function ethernetDefines(board: Board): Json | undefined {
  const net = board.network as Board["network"] & { phy?: string; phyAddress?: number; mdc?: number; mdio?: number; power?: number; reset?: number; clock?: string; spi?: SpiWiring };
  if (net.driver !== "ethernet/esp32") return undefined;
  if (net.spi) {
    const spi = net.spi;
    return {
      enc28j60: net.phy === "ENC28J60" ? 1 : 0,
      w5500: net.phy === "W5500" ? 1 : 0,
      hz: spi.hz,
      int_pin: spi.int,
      ...(spi.reset === undefined ? {} : { power_pin: spi.reset }),
      spi: { port: spi.host === 2 ? "SPI3_HOST" : "SPI2_HOST", cs_pin: spi.cs, miso_pin: spi.miso, mosi_pin: spi.mosi, sck_pin: spi.sclk },
    };
  }
  const phy: Json = { address: net.phyAddress, reset: net.power ?? net.reset, [EMAC_PHY_DEFINES[net.phy!] ?? `(no define for ${net.phy})`]: 1 };
  if (net.clock === "gpio0-in") phy.GPIO0_CLOCK_INPUT = 1;
  return { internal: { phy, mac: { MDC: net.mdc, MDIO: net.mdio } } };
}

/** The manifest.json the board file calls for. */
export function expectedBoardManifest(board: Board): Json {
  const target = `$(MODDABLE)/build/devices/esp32/targets/${sdkTarget(board)}`;
  const ethernet = ethernetModule(board);
  const defines = ethernetDefines(board);
  const { chunk, heap, stack } = board.limits.xs;
  return {
    include: [`${target}/manifest.json`, ...(ethernet ? [ethernet] : [])],
    modules: { "xsock/target/provider": `${target}/host/provider` },
    // What the simulator gives the firmware as mc/config from the same board file.
    config: firmwareConfig({ config: {} }, board),
    creation: { chunk: { initial: chunk, incremental: 0 }, heap: { initial: heap, incremental: 0 }, stack },
    ...(defines ? { defines: { ethernet: defines } } : {}),
  };
}

/** Every leaf where `actual` differs from `wanted`, as `path: has X, board.json means Y`. */
export function differences(actual: unknown, wanted: unknown, path = ""): string[] {
  const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
  if (isObject(actual) && isObject(wanted)) {
    const keys = [...new Set([...Object.keys(wanted), ...Object.keys(actual)])];
    return keys.flatMap((key) => differences(actual[key], wanted[key], path ? `${path}.${key}` : key));
  }
  if (isDeepStrictEqual(actual, wanted)) return [];
  return [`${path}: has ${JSON.stringify(actual)}, board.json means ${JSON.stringify(wanted)}`];
}

/** Where a board's manifest.json disagrees with its board.json; none when they agree. */
export function boardManifestProblems(board: Board, manifest: Json): string[] {
  return differences(manifest, expectedBoardManifest(board));
}
