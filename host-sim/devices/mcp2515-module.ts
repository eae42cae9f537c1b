// An MCP2515 module as a board file wires it: the chip on the ESP32's SPI pins, its INT on an
// input pin, and its CAN side on the board's bus. Being its own chip, it outlives restarts of
// the ESP32 (the firmware resets it when it starts the driver).
import type { Mcp2515Can } from "../board.ts";
import type { CanBus } from "./can-bus.ts";
import type { Wiring } from "./gpio.ts";
import { MODE, Mcp2515 } from "./mcp2515.ts";

export class Mcp2515Module {
  readonly chip: Mcp2515;
  readonly wiring: Wiring;

  constructor(
    readonly can: Mcp2515Can,
    bus: CanBus,
    private readonly log: (line: string) => void,
    onBusOff?: () => void,
    onState?: (state: string) => void,
  ) {
    this.chip = new Mcp2515({ oscillator: can.oscillator, log, onBusOff, onState });
    this.chip.attach(bus);
    const chip = this.chip;
    this.wiring = {
      spi: [{ clock: can.spi.clock, out: can.spi.out, in: can.spi.in, select: can.select, part: chip }],
      inputs: new Map([[can.interrupt, { level: () => chip.int, onChange: (listener) => chip.onInt(listener) }]]),
    };
  }

  /** `can-bus-off` while the chip is bus-off or the fault holds the bus, for the control socket's status. */
  active(): string[] {
    if (this.chip.counters.busOff) return ["can-bus-off"];
    return this.chip.faultRemaining > 0 ? ["can-bus-off (the bus is held dominant)"] : [];
  }

  /** The fault `can-bus-off`: the bus breaks for `forMs` and the controller goes bus-off. */
  busOff(forMs?: number): void {
    if (this.chip.mode === MODE.configuration) this.log("sim: can-bus-off: the MCP2515 is in configuration mode (not started): the bus breaks, the chip stays off it");
    this.chip.busFault(forMs);
  }
}
