// A serial client on the simulator's pty, through the npm serialport package.
import type { SerialPort } from "serialport";
import { openPort } from "../../host-sim/serial/link.ts";
import { TextWaiters } from "../../host-sim/text-waiters.ts";

export class UartClient {
  private readonly received = new TextWaiters("the UART");

  private constructor(readonly port: SerialPort) {
    port.on("data", (d: Buffer) => this.received.add(d.toString("latin1")));
  }

  static async open(path: string, baudRate = 115200): Promise<UartClient> {
    return new UartClient(await openPort(path, baudRate));
  }

  /** Everything received and not yet consumed by expect(). */
  get pending(): string {
    return this.received.pending;
  }

  write(text: string | Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.port.write(text, (e) => (e ? reject(e) : this.port.drain(() => resolve()))));
  }

  /**
   * Waits for the pattern, and returns (and consumes) everything up to the end of its match. The
   * default wait is long enough for a boot or an AT+RST on a loaded machine.
   */
  expect(pattern: string | RegExp, timeout = 15000): Promise<string> {
    return this.received.expect(pattern, timeout);
  }

  /** Sends a command line and returns the reply up to its final OK or ERROR. */
  async command(line: string, timeout = 15000): Promise<string> {
    await this.write(`${line}\r\n`);
    return this.expect(/\r\n(OK|ERROR)\r\n/, timeout);
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.port.isOpen ? this.port.close(() => resolve()) : resolve()));
  }
}
