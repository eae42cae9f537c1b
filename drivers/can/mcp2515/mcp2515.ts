// The MCP2515 driver's factory: opens the board's SPI bus (ECMA-419 `embedded:io/spi`) and its
// INT line (`embedded:io/digital`, falling edge) from the board file's `can` section.
import Digital from "embedded:io/digital";
import SPI from "embedded:io/spi";
import Timer from "timer";
import type { CanBoardConfig, CanDriverFactory } from "xsock/can";
import { Mcp2515 } from "xsock/can/mcp2515-driver";

export { Mcp2515 };

/** The board file's `can` section for an MCP2515. */
export interface Mcp2515Board extends CanBoardConfig {
  driver: "mcp2515";
  spi: { clock: number; out: number; in: number; port?: number };
  select: number;
  interrupt: number;
  oscillator: number;
}

/** The MCP2515's fastest SPI clock (DS20001801, table 13-6: 10 MHz). */
export const SPI_HZ = 10_000_000;
/** ESP-IDF's SPI2_HOST, which every ESP32 has; VSPI on the ESP32 is SPI3_HOST (2). */
export const DEFAULT_SPI_PORT = 1;

const mcp2515: CanDriverFactory = (board) => {
  const pins = board as Mcp2515Board;
  const spi = new SPI({
    clock: pins.spi.clock,
    out: pins.spi.out,
    in: pins.spi.in,
    select: pins.select,
    active: 0,
    hz: SPI_HZ,
    mode: 0,
    port: pins.spi.port ?? DEFAULT_SPI_PORT,
  });
  let driver: Mcp2515 | undefined = undefined;
  const interrupt = new Digital({
    pin: pins.interrupt,
    mode: Digital.InputPullUp,
    edge: Digital.Falling,
    onReadable() {
      driver?.interrupt();
    },
  });
  driver = new Mcp2515(spi, interrupt, { oscillator: pins.oscillator, defer: (callback) => void Timer.set(callback, 0) });
  return driver;
};

export default mcp2515;
