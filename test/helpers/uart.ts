// A serial client on the simulator's pty, through the npm serialport package.
import { SerialPort } from "serialport";

export class UartClient {
  private received = "";
  private waiters = new Set<() => void>();

  private constructor(readonly port: SerialPort) {
    port.on("data", (d: Buffer) => {
      this.received += d.toString("latin1");
      for (const w of [...this.waiters]) w();
    });
  }

  static open(path: string, baudRate = 115200): Promise<UartClient> {
    return new Promise((resolve, reject) => {
      const port = new SerialPort({ path, baudRate }, (e) => (e ? reject(e) : resolve(new UartClient(port))));
    });
  }

  /** Everything received and not yet consumed by expect(). */
  get pending(): string {
    return this.received;
  }

  write(text: string | Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.port.write(text, (e) => (e ? reject(e) : this.port.drain(() => resolve()))));
  }

  /** Waits for the pattern, and returns (and consumes) everything up to the end of its match. */
  expect(pattern: string | RegExp, timeout = 3000): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = () => {
        let end = -1;
        if (typeof pattern === "string") {
          const at = this.received.indexOf(pattern);
          if (at >= 0) end = at + pattern.length;
        } else {
          const m = pattern.exec(this.received);
          if (m) end = m.index + m[0].length;
        }
        if (end < 0) return;
        cleanup();
        const text = this.received.slice(0, end);
        this.received = this.received.slice(end);
        resolve(text);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no ${JSON.stringify(String(pattern))} on the UART within ${timeout} ms; got ${JSON.stringify(this.received)}`));
      }, timeout);
      const cleanup = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Sends a command line and returns the reply up to its final OK or ERROR. */
  async command(line: string, timeout = 3000): Promise<string> {
    await this.write(`${line}\r\n`);
    return this.expect(/\r\n(OK|ERROR)\r\n/, timeout);
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.port.isOpen ? this.port.close(() => resolve()) : resolve()));
  }
}
