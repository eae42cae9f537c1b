// Moddable's `timer` module (modules/base/timer: timer.js, modTimer.c, mc/timer.c), on the
// simulator's clock. As there: the callback runs with `this` as the global object and the timer
// as its argument; a timer whose callback ran with no repeat left is freed (clear then does
// nothing, schedule throws); schedule(timer) alone unschedules it and keeps it.
import { host, newId, off, on, tell } from "./bridge";

type TimerCallback = (timer: Timer) => void;

class Timer {
  readonly #id = newId();
  readonly #callback: TimerCallback;
  /** The repeat interval: 0 one-shot, -1 unscheduled (kept), as mc/timer.c's repeatInterval. */
  #repeat = 0;
  #freed = false;

  private constructor(callback: TimerCallback) {
    if (typeof callback !== "function") throw new TypeError("callback: not a function");
    this.#callback = callback;
    on("timer", this.#id, () => this.#fire());
  }

  #arm(interval: number, repeat: number): void {
    this.#repeat = Math.max(0, repeat);
    tell("timer.set", this.#id, Math.max(0, interval), this.#repeat);
  }

  #fire(): void {
    this.#callback.call(globalThis, this);
    if (this.#repeat === 0) this.#free();
  }

  #free(): void {
    this.#freed = true;
    off("timer", this.#id);
    tell("timer.clear", this.#id);
  }

  static set(callback: TimerCallback, interval = 0, repeat = 0): Timer {
    const timer = new Timer(callback);
    timer.#arm(interval, repeat);
    return timer;
  }

  static repeat(callback: TimerCallback, interval: number): Timer {
    return Timer.set(callback, interval, interval);
  }

  static schedule(timer: Timer, ...when: [interval?: number, repeat?: number]): void {
    if (!(timer instanceof Timer) || timer.#freed) throw new SyntaxError("C: xsGetHostData: invalid host data");
    if (when.length === 0) {
      timer.#repeat = -1;
      tell("timer.clear", timer.#id);
    } else timer.#arm(when[0] ?? 0, when[1] ?? 0);
  }

  static clear(timer: Timer | undefined | null): void {
    if (!(timer instanceof Timer) || timer.#freed) return;
    timer.#free();
  }

  static delay(milliseconds: number): void {
    host("timer.delay", milliseconds);
  }
}

export default Timer;
