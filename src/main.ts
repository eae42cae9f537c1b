// Boot: open the console UART named by the board and start the ESP-AT console.
import config from "mc/config";
import Timer from "timer";
import { AtConsole, type CommandTable } from "./at/console";
import { basicCommands } from "./at/basic";
import { Links } from "./at/links";
import { tcpipCommands } from "./at/tcpip";
import { Uart, type UartConfig } from "xsock/uart";

const board = (config.board ?? { id: "esp32/nodemcu", chip: "ESP32" }) as { id: string; chip: string };
const consoleUart = (config.console ?? { port: 1, transmit: 17, receive: 16, baud: 115200 }) as UartConfig;
const maxLinks = Number((config.limits as { links?: number } | undefined)?.links ?? 5);

const commands: CommandTable = basicCommands({ chip: board.chip, board: board.id });
const clock = {
  now: () => Date.now(),
  after: (ms: number, fn: () => void) => {
    let fired = false;
    const timer = Timer.set(() => {
      fired = true;
      fn();
    }, ms);
    return () => void (fired || Timer.clear(timer));
  },
};
const at = new AtConsole((bytes) => uart.write(bytes), commands, clock);
Object.assign(commands, tcpipCommands(new Links(at, maxLinks, () => uart.whenRoom())));
const uart = new Uart(consoleUart, (bytes) => at.input(bytes));
at.ready();
