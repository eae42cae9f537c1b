// A clock that moves only when a test says so, for models that keep time (host-sim/devices).
import type { ModelClock } from "../../host-sim/devices/mcp2515.ts";

interface Timer {
  at: number;
  callback: () => void;
  cancelled: boolean;
}

export class ManualClock implements ModelClock {
  #now = 0;
  #timers: Timer[] = [];

  now(): number {
    return this.#now;
  }

  setTimer(delayMs: number, callback: () => void): { cancel(): void } {
    const timer = { at: this.#now + Math.max(0, delayMs), callback, cancelled: false };
    this.#timers.push(timer);
    return { cancel: () => void (timer.cancelled = true) };
  }

  /** Moves time on by `ms`, running each timer due on the way at its own time. */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      this.#timers = this.#timers.filter((t) => !t.cancelled);
      const next = this.#timers.reduce<Timer | undefined>((a, t) => (t.at <= end && (!a || t.at < a.at) ? t : a), undefined);
      if (!next) break;
      this.#timers.splice(this.#timers.indexOf(next), 1);
      this.#now = Math.max(this.#now, next.at);
      next.callback();
    }
    this.#now = end;
  }
}
