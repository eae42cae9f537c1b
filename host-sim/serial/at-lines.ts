// The ESP-AT console's output as lines, each told apart: a final result, an AT message
// (ESP-AT's name for what comes unsolicited), the data prompt, or a command's reply.

export type LineKind = "ok" | "error" | "message" | "prompt" | "reply";

/** Final results: a command is over once one of these comes. */
const OK = /^(OK|SEND OK|SET OK)$/;
const ERROR = /^(ERROR|FAIL|SEND FAIL|SEND CANCELLED|busy [ps]\.\.\.|ERR CODE:0x[0-9a-fA-F]+)$/;
/** ESP-AT's "AT messages": boot, Wi-Fi, links, data and CAN frames that come when they happen. */
const MESSAGE =
  /^(ready|WIFI (CONNECTED|GOT IP|DISCONNECT)|(\d,)?(CONNECT|CLOSED|CONNECT FAIL)|ALREADY CONNECTED|\+IPD,.*|\+LINK_CONN:.*|\+QUITT|\+STA_(CONNECTED|DISCONNECTED):.*|\+DIST_STA_IP:.*|\+TIME_UPDATED|Recv \d+ bytes|\+CANRX:.*|\+CANERR:.*)$/;

export function classify(line: string): LineKind {
  if (OK.test(line)) return "ok";
  if (ERROR.test(line)) return "error";
  if (line === ">") return "prompt";
  if (MESSAGE.test(line)) return "message";
  return "reply";
}

/**
 * Cuts what the port sends into lines (CR-LF, LF or CR ended), blank ones left out. A line still open when no
 * more bytes come within `idleMs` (the `>` prompt, +IPD data without a line end) is handed
 * over as it is.
 */
export class LineSplitter {
  private partial = "";
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly onLine: (line: string) => void,
    private readonly idleMs = 80,
  ) {}

  push(text: string): void {
    clearTimeout(this.timer);
    const parts = (this.partial + text).split(/\r\n|\n|\r(?!$)/);
    this.partial = parts.pop()!;
    for (const line of parts) if (line) this.onLine(line);
    if (this.partial) this.timer = setTimeout(() => this.flush(), this.idleMs);
  }

  flush(): void {
    clearTimeout(this.timer);
    const line = this.partial.replace(/\r$/, "");
    this.partial = "";
    if (line) this.onLine(line);
  }
}
