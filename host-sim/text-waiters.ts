// Text as it arrives (a UART's output, a log), and promises that wait for a string or a match in it.

/** Text kept for matches: beyond twice this many characters, all but the last KEEP go. */
const KEEP = 4 * 1024 * 1024;

export class TextWaiters {
  /** Everything seen (up to KEEP). */
  all = "";
  /** What expect() has not consumed. */
  pending = "";
  private ended?: string;
  private readonly waiters = new Set<() => void>();

  /** @param source names the text in errors: "the UART", "the log". */
  constructor(private readonly source: string) {}

  add(text: string): void {
    this.all += text;
    this.pending += text;
    // Trimmed in halves, so a long stream is not copied at every chunk.
    if (this.all.length > 2 * KEEP) this.all = this.all.slice(-KEEP);
    if (this.pending.length > 2 * KEEP) this.pending = this.pending.slice(-KEEP);
    for (const w of [...this.waiters]) w();
  }

  /** No more text will come: waiters fail now, with why. */
  end(why: string): void {
    this.ended = why;
    for (const w of [...this.waiters]) w();
  }

  /** Waits for the text or a match in what is pending; returns (and consumes) everything up to its end. */
  expect(what: string | RegExp, timeout: number): Promise<string> {
    return this.wait(timeout, () => this.pending, what, (end) => {
      const text = this.pending.slice(0, end);
      this.pending = this.pending.slice(end);
      return text;
    });
  }

  /** Waits for a match anywhere in the text so far, consuming nothing. */
  match(pattern: RegExp, timeout: number): Promise<RegExpExecArray> {
    return this.wait(timeout, () => this.all, pattern, () => once(pattern).exec(this.all)!);
  }

  private wait<T>(timeout: number, text: () => string, what: string | RegExp, take: (end: number) => T): Promise<T> {
    const describe = typeof what === "string" ? JSON.stringify(what) : String(what);
    return waitUntil(
      this.waiters,
      timeout,
      () => {
        const end = endOf(text(), what);
        return end >= 0 ? take(end) : undefined;
      },
      () => this.ended,
      (why) => `no ${describe} in ${this.source}${why}; it sent ${tail(text())}`,
    );
  }
}

/**
 * Resolves with `probe`'s first answer, trying it now and each time a function in `waiters` is
 * called. Rejects once `ended` gives a reason, or after `timeout` ms; `failure` words the error
 * from `: <reason>` or ` within <timeout> ms`.
 */
export function waitUntil<T>(
  waiters: Set<() => void>,
  timeout: number,
  probe: () => T | undefined,
  ended: () => string | undefined,
  failure: (why: string) => string,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const answer = probe();
      if (answer !== undefined) {
        cleanup();
        resolve(answer);
      } else if (ended()) {
        cleanup();
        reject(new Error(failure(`: ${ended()}`)));
      }
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(failure(` within ${timeout} ms`)));
    }, timeout);
    const cleanup = () => {
      clearTimeout(timer);
      waiters.delete(check);
    };
    waiters.add(check);
    check();
  });
}

/** Where the text or the match ends in text, or -1. */
export function endOf(text: string, what: string | RegExp): number {
  if (typeof what === "string") {
    const at = text.indexOf(what);
    return at < 0 ? -1 : at + what.length;
  }
  const m = once(what).exec(text);
  return m ? m.index + m[0].length : -1;
}

/** The pattern without the g and y flags, so exec() always starts at 0. */
const once = (pattern: RegExp) => new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, ""));

/** What came (the end of a long text, JSON-quoted), for an error message. */
export function tail(text: string, n = 600): string {
  if (!text) return "nothing (more)";
  return JSON.stringify(text.length > n ? `…${text.slice(-n)}` : text);
}
