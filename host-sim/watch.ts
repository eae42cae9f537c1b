// Watches the UART's output for the text a CI run waits for (--expect-text) or fails on
// (--fail-text), and keeps its last lines to show when a run fails.
export type Verdict = { pass: true; text: string } | { pass: false; text: string };

/** Output kept to match across chunks and to show at the end. */
const KEEP = 64 * 1024;

export class UartWatch {
  private seen = "";

  constructor(
    private readonly expect: string[],
    private readonly fail: string[],
  ) {}

  /** Takes output; says whether an expected or a failing text has now appeared. */
  feed(bytes: Uint8Array): Verdict | undefined {
    const before = this.seen.length;
    this.seen += Buffer.from(bytes).toString("latin1");
    const longest = Math.max(0, ...this.expect.map((t) => t.length), ...this.fail.map((t) => t.length));
    const from = Math.max(0, before - longest);
    // A failing text counts first: output that has both fails.
    const failed = this.fail.find((t) => this.seen.includes(t, from));
    const passed = this.expect.find((t) => this.seen.includes(t, from));
    if (this.seen.length > KEEP) this.seen = this.seen.slice(-KEEP / 2);
    if (failed !== undefined) return { pass: false, text: failed };
    if (passed !== undefined) return { pass: true, text: passed };
    return undefined;
  }

  /** The last n lines of output, CR-LF or LF ended. */
  lastLines(n = 20): string[] {
    const lines = this.seen.split(/\r?\n/);
    if (lines.at(-1) === "") lines.pop();
    return lines.slice(-n);
  }
}
