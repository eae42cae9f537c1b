// The simulator's UART on a terminal, with line editing and history as `xsock console` has:
// Enter sends the line and CR-LF, and after the console's `>` the payload rules of
// serial/payload.ts apply. What the board sends is drawn above the line being typed; a line it
// leaves open (`>`, or an app's "Enter message: ") is the prompt the typing follows.
import { clearLine, createInterface, cursorTo } from "node:readline";
import { historyFile, HISTORY_SIZE, loadHistory, saveHistory } from "./commands/history.ts";
import { classify } from "./serial/at-lines.ts";
import { announcedLength, payloadBytes, payloadPrompt } from "./serial/payload.ts";

export interface TerminalLine {
  /** Draws what the board sent. */
  write(bytes: Uint8Array): void;
  pause(): void;
  resume(): void;
  close(): void;
}

export function terminalLine(send: (bytes: Uint8Array) => void, onInterrupt: () => void): TerminalLine {
  const out = process.stdout;
  const file = historyFile();
  const rl = createInterface({ input: process.stdin, output: out, prompt: "", history: loadHistory(file), historySize: HISTORY_SIZE, removeHistoryDuplicates: true });
  rl.on("history", (lines: string[]) => saveHistory(file, lines));
  rl.on("SIGINT", onInterrupt);
  rl.on("close", onInterrupt);

  /** The board's last line, not ended yet: drawn as the prompt. */
  let open = Buffer.alloc(0);
  /** The line just sent, whose echo the terminal shows already. */
  let echo: Buffer | undefined;
  let lastCommand = "";
  /** After `>`: the payload bytes the board still expects (null in passthrough); undefined outside one. */
  let payload: number | null | undefined;

  const redraw = () => {
    if (payload === undefined) rl.setPrompt(open.toString("utf8"));
    else rl.setPrompt(payloadPrompt(payload));
    rl.prompt(true);
  };

  rl.on("line", (line) => {
    let bytes: Buffer;
    try {
      bytes = payload === undefined ? Buffer.from(`${line}\r\n`) : payloadBytes(line, payload);
    } catch (e) {
      out.write(`-- not sent: ${(e as Error).message}\n`);
      return redraw();
    }
    if (payload === undefined) {
      lastCommand = line;
      echo = Buffer.from(`${open.toString("latin1")}${line}\r\n`, "latin1");
    } else if (payload === null) {
      if (line === "+++") payload = undefined;
    } else payload -= bytes.length;
    // The line stays on screen as typed; the board's text goes on below it.
    open = Buffer.alloc(0);
    send(bytes);
    redraw();
  });

  return {
    write(bytes) {
      let text = Buffer.concat([open, bytes]);
      if (echo) {
        const n = Math.min(text.length, echo.length);
        if (text.subarray(0, n).equals(echo.subarray(0, n))) {
          if (n < echo.length) return void (open = text); // more of the echo to come
          text = text.subarray(n);
        }
        echo = undefined;
      }
      const end = text.lastIndexOf(0x0a);
      clearLine(out, 0);
      cursorTo(out, 0);
      if (end >= 0) {
        out.write(text.subarray(0, end + 1));
        for (const line of text.subarray(0, end + 1).toString("latin1").split(/\r?\n/)) {
          const kind = classify(line);
          if (kind === "ok" || kind === "error") payload = undefined;
        }
      }
      open = Buffer.from(text.subarray(end + 1));
      const announced = announcedLength(lastCommand);
      if (payload === undefined && announced !== undefined && open.toString("latin1").trim() === ">") {
        // The prompt then counts the payload down; `>` stays on screen as the board sent it.
        payload = announced;
        lastCommand = "";
        out.write(`${open.toString("latin1")}\n`);
        open = Buffer.alloc(0);
      }
      redraw();
    },
    pause: () => void rl.pause(),
    resume: () => void rl.resume(),
    close() {
      rl.off("close", onInterrupt);
      rl.close();
    },
  };
}
