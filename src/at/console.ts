// The ESP-AT console: assembles command lines from UART bytes, echoes them, runs commands,
// and answers OK, ERROR or `busy p...`. Pure logic: the UART is behind `write`.
import { parseCommand, type CommandKind, type Param } from "./parser";

/** A command's handler: false or a thrown error means ERROR; anything else means OK. */
export type Handler = (at: AtConsole, params: Param[]) => boolean | void | Promise<boolean | void>;
export type CommandSpec = Partial<Record<CommandKind, Handler>>;
export type CommandTable = Record<string, CommandSpec>;

/** A command line longer than this gets ERROR. */
export const MAX_LINE = 256;

export class AtConsole {
  echo = true;
  private line: number[] = [];
  private overlong = false;
  private busy = false;

  constructor(
    private readonly write: (bytes: Uint8Array) => void,
    private readonly commands: CommandTable,
  ) {}

  /** Prints `\r\nready\r\n`, as ESP-AT does at boot. */
  ready(): void {
    this.send("\r\nready\r\n");
  }

  /** Prints one line of a reply, ended with CR-LF. */
  print(line: string): void {
    this.send(`${line}\r\n`);
  }

  send(text: string): void {
    this.write(encodeLatin1(text));
  }

  /**
   * Takes bytes from the UART. A line ends at LF (a CR before it is dropped), as ESP-AT's
   * lines end in CR-LF. Each line is echoed before it runs, so ATE0 stops the echo after itself.
   */
  input(bytes: Uint8Array): void {
    let echoed = 0;
    for (let i = 0; i < bytes.length; i++) {
      const byte = bytes[i];
      if (byte === 0x0a) {
        if (this.echo) this.write(bytes.subarray(echoed, i + 1));
        echoed = i + 1;
        if (this.line.at(-1) === 0x0d) this.line.pop();
        if (this.line.length || this.overlong) this.endLine();
      } else if (this.line.length < MAX_LINE + 1) {
        this.line.push(byte);
      } else {
        this.overlong = true;
      }
    }
    if (this.echo && echoed < bytes.length) this.write(bytes.subarray(echoed));
  }

  private endLine(): void {
    const text = String.fromCharCode(...this.line);
    const overlong = this.overlong || this.line.length > MAX_LINE;
    this.line = [];
    this.overlong = false;
    if (this.busy) {
      this.send("busy p...\r\n");
      return;
    }
    if (overlong) {
      this.error();
      return;
    }
    this.run(text);
  }

  private run(text: string): void {
    const command = parseCommand(text);
    const handler = command && this.commands[command.name]?.[command.kind];
    if (!command || !handler) {
      this.error();
      return;
    }
    let result: ReturnType<Handler>;
    try {
      result = handler(this, command.params);
    } catch {
      this.error();
      return;
    }
    if (result instanceof Promise) {
      this.busy = true;
      result.then(
        (ok) => this.finish(ok),
        () => this.finish(false),
      );
    } else this.finish(result);
  }

  private finish(ok: boolean | void): void {
    this.busy = false;
    if (ok === false) this.error();
    else this.send("\r\nOK\r\n");
  }

  private error(): void {
    this.send("\r\nERROR\r\n");
  }
}

/** Text to bytes, one byte per character (the console speaks 8-bit ASCII). */
export function encodeLatin1(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i) & 0xff;
  return bytes;
}
