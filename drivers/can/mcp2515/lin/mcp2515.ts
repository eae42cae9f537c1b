// lin, the platform of builds and tests, has no SPI bus or GPIO (Moddable's embedded:io/spi and
// embedded:io/digital are for microcontrollers): the MCP2515 factory links, and using it says why
// it cannot run. The simulator builds for the board's ESP32 target, with the real driver.
import type { CanDriverFactory } from "xsock/can";

const mcp2515: CanDriverFactory = () => {
  throw new Error("the MCP2515 needs an ESP32's SPI bus: this build's platform (lin) has none");
};

export default mcp2515;
