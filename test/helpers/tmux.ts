// A program on a real terminal: a tmux session on a server of its own, typed into and read
// back as a user sees it (with its colours, when asked).
import { execFileSync } from "node:child_process";

export class Terminal {
  private constructor(private readonly socket: string) {}

  /** Runs the shell command in a 120x30 terminal; when it ends, `exit=<code>` shows. */
  static start(command: string): Terminal {
    const socket = `xsock-test-${process.pid}-${Math.random().toString(36).slice(2)}`;
    const t = new Terminal(socket);
    t.tmux("new-session", "-d", "-x", "120", "-y", "30", `${command}; echo "exit=$?"; sleep 600`);
    return t;
  }

  /** Keys as tmux names them: text, "Enter", "Up", "C-]". */
  keys(...keys: string[]): void {
    this.tmux("send-keys", ...keys);
  }

  /** Types a line and presses Enter. */
  type(line: string): void {
    this.tmux("send-keys", "-l", line);
    this.tmux("send-keys", "Enter");
  }

  /** The screen as text; with `colours`, with the SGR sequences tmux draws it with. */
  screen(colours = false): string {
    return this.tmux("capture-pane", "-p", ...(colours ? ["-e"] : []));
  }

  /** Waits until the screen matches, and returns it. */
  async waitFor(pattern: RegExp, timeout = 15000, colours = false): Promise<string> {
    const end = Date.now() + timeout;
    for (;;) {
      const screen = this.screen(colours);
      if (pattern.test(screen)) return screen;
      if (Date.now() > end) throw new Error(`no ${pattern} on the terminal within ${timeout} ms:\n${screen}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  kill(): void {
    try {
      this.tmux("kill-server");
    } catch {
      // gone already
    }
  }

  private tmux(...args: string[]): string {
    return execFileSync("tmux", ["-L", this.socket, ...args], { encoding: "utf8" });
  }
}
