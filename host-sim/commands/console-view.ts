// What `xsock console` shows of the port: the console's lines, OK, ERROR and AT messages
// set apart by colour, and the port going away and coming back.
import { classify, LineSplitter, type LineKind } from "../serial/at-lines.ts";
import type { LinkEvent } from "../serial/link.ts";
import { announcedLength } from "../serial/payload.ts";
import type { Style, Tone } from "./common.ts";

const TONE: Record<LineKind, Tone | undefined> = { ok: "ok", error: "error", message: "event", prompt: "info", reply: undefined };

/** Control characters but tab shown as \xNN, so that a byte from a peer cannot drive the terminal. */
const visible = (text: string) =>
  [...text].map((c) => (c !== "\t" && (c < " " || c === "\x7f") ? `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}` : c)).join("");

export class ConsoleView {
  /**
   * After the `>` prompt, what is typed next is the payload, until the send's result: the bytes
   * the board still expects, or null in passthrough. Undefined outside payload mode.
   */
  payload?: number | null;
  private echo?: string;
  private lastCommand = "";
  private readonly splitter = new LineSplitter((line) => this.line(line));

  constructor(
    private readonly path: string,
    private readonly style: Style,
    private readonly print: (text: string) => void,
    /** Drop the console's echo of a typed command: the terminal shows it already. */
    private readonly hideEcho: boolean,
  ) {}

  /** The command just sent, whose echo is not shown again. */
  sent(line: string): void {
    this.echo = line;
    this.lastCommand = line;
  }

  get dataMode(): boolean {
    return this.payload !== undefined;
  }

  /** Payload bytes have gone: fewer remain. */
  took(bytes: number): void {
    if (typeof this.payload === "number") this.payload = Math.max(0, this.payload - bytes);
  }

  handle(event: LinkEvent): void {
    switch (event.type) {
      case "data":
        this.splitter.push(event.bytes.toString("latin1"));
        break;
      case "lost":
        this.splitter.flush();
        this.payload = undefined;
        this.notice("error", `${this.path} went away${this.style.verbose ? ` (${event.reason})` : ""}; waiting for it to come back`);
        break;
      case "reopened":
        this.notice("ok", `${this.path} is back`);
        break;
      case "closed":
        this.splitter.flush();
        break;
    }
  }

  /** A line of xsock's own, set apart from the board's. */
  notice(tone: Tone, text: string): void {
    if (!this.style.quiet || tone === "error") this.print(this.style.paint(tone, `-- ${text}`));
  }

  private line(raw: string): void {
    if (this.hideEcho && raw === this.echo) {
      this.echo = undefined;
      return;
    }
    const kind = classify(raw);
    if (kind === "prompt") this.payload = announcedLength(this.lastCommand) ?? null;
    else if (kind === "ok" || kind === "error") this.payload = undefined;
    if (kind === "ok" || kind === "error") this.echo = undefined;
    const text = visible(Buffer.from(raw, "latin1").toString("utf8"));
    const tone = TONE[kind];
    this.print(tone ? this.style.paint(tone, text) : text);
  }
}
