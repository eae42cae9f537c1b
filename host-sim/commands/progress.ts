// A line at the bottom of a terminal that redraws itself: a progress bar, or the step a build is on.
import type { Style } from "./common.ts";

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** `850 ms`, `12.3 s` */
export function formatDuration(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** `[##########----------]  50%  40.0 KiB of 80.0 KiB, 11.3 KiB/s` */
export function progressText(done: number, total: number, ms: number, width = 24): string {
  const fraction = total ? Math.min(1, done / total) : 1;
  const filled = Math.round(fraction * width);
  const rate = ms > 0 ? `, ${formatBytes(Math.round((done * 1000) / ms))}/s` : "";
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${String(Math.round(fraction * 100)).padStart(3)}%  ${formatBytes(done)} of ${formatBytes(total)}${rate}`;
}

/** Draws on an interactive terminal only; elsewhere it keeps quiet. */
export class StatusLine {
  private shown = false;

  constructor(
    private readonly style: Style,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {}

  show(text: string): void {
    if (!this.style.interactive || this.style.quiet) return;
    const columns = this.stream.columns || 80;
    this.stream.write(`\r${text.length >= columns ? text.slice(0, columns - 1) : text}\x1b[K`);
    this.shown = true;
  }

  /** Clears the line, so ordinary output can follow. */
  clear(): void {
    if (!this.shown) return;
    this.stream.write("\r\x1b[K");
    this.shown = false;
  }
}
