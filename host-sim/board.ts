// Board files: boards/<moddable target>/board.json, checked against boards/board.schema.json.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { compileSchema, type ErrorObject, type ValidateFunction } from "./json-schema.ts";
import { IS_CHECKOUT, packagePath } from "./package-root.ts";

export const BOARDS_DIR = packagePath("boards") + "/";
export const DEFAULT_BOARD = "esp32/nodemcu";

export interface Pins {
  port: number;
  transmit: number;
  receive: number;
  cts?: number;
  rts?: number;
  baud: number;
}

export interface Board {
  id: string;
  /** The Moddable target it builds with, when not its id. */
  target?: string;
  name: string;
  chip: string;
  network: { driver: "wifi/esp32" } | { driver: "ethernet/esp32"; phy: string; [pin: string]: unknown };
  console: Pins;
  can: TwaiCan | Mcp2515Can;
  limits: { sockets: number; links: number; xs: { chunk: number; heap: number; stack: number } };
}

/** The ESP32's own CAN controller and the pins of its transceiver. */
export interface TwaiCan {
  driver: "twai";
  transmit: number;
  receive: number;
  bitrate: number;
}

/** An MCP2515 on an SPI bus: its pins, its INT line and the crystal it runs on. */
export interface Mcp2515Can {
  driver: "mcp2515";
  spi: { clock: number; out: number; in: number; port?: number };
  select: number;
  interrupt: number;
  oscillator: number;
  bitrate: number;
}

let validate: ValidateFunction | undefined;

function describe(e: ErrorObject): string {
  const field = e.instancePath ? e.instancePath.slice(1).replaceAll("/", ".") : "(top level)";
  if (e.keyword === "additionalProperties") return `${field}: unknown field "${String(e.params.additionalProperty)}"`;
  if (e.keyword === "required") return `${field}: missing field "${String(e.params.missingProperty)}"`;
  if (e.keyword === "enum") return `${field}: ${e.message} (${(e.params.allowedValues as unknown[]).join(", ")})`;
  return `${field}: ${e.message}`;
}

/** Checks a parsed board file; throws an error that names each bad field. */
export function checkBoard(data: unknown, source: string): Board {
  validate ??= compileSchema(JSON.parse(readFileSync(join(BOARDS_DIR, "board.schema.json"), "utf8")) as object);
  if (!validate(data)) {
    // oneOf reports every branch, if/then its own failure: the specific messages are the useful ones.
    const errors = (validate.errors ?? []).filter((e) => e.keyword !== "oneOf" && e.keyword !== "const" && e.keyword !== "if");
    const lines = [...new Set((errors.length ? errors : (validate.errors ?? [])).map(describe))];
    throw new Error(`bad board file ${source}:\n  ${lines.join("\n  ")}`);
  }
  return data as Board;
}

/** Lists the board ids there are files for. */
export function boardIds(): string[] {
  const ids: string[] = [];
  for (const family of ["esp32"]) {
    const dir = join(BOARDS_DIR, family);
    for (const sub of existsSync(dir) ? readdirNames(dir) : []) {
      if (existsSync(join(dir, sub, "board.json"))) ids.push(`${family}/${sub}`);
    }
  }
  return ids.sort();
}

function readdirNames(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name);
}

/** Loads a board by id, or from a path to a board.json. */
export function loadBoard(idOrPath: string = DEFAULT_BOARD): Board {
  const path = idOrPath.endsWith(".json") ? idOrPath : join(BOARDS_DIR, idOrPath, "board.json");
  if (!existsSync(path)) {
    throw new Error(`unknown board "${idOrPath}": the boards are ${boardIds().join(", ")}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new Error(`bad board file ${path}: ${(e as Error).message}`, { cause: e });
  }
  // The package's own boards were checked by its tests: an installed package skips compiling the schema at each start.
  return !IS_CHECKOUT && path.startsWith(BOARDS_DIR) ? (data as Board) : checkBoard(data, path);
}
