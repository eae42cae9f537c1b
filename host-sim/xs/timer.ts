// Moddable's `timer` module, on the simulator's clock.
import { host, newId, off, on, tell } from "./bridge";

type TimerCallback = (timer: Timer) => void;

class Timer {
  readonly id = newId();
  #armed = false;
  private constructor(private readonly callback: TimerCallback) {
    on("timer", this.id, (last) => this.#fire(last as boolean));
  }

  #arm(interval: number, repeat: number): void {
    this.#armed = true;
    tell("timer.set", this.id, Math.max(0, interval), Math.max(0, repeat));
  }

  #fire(last: boolean): void {
    if (last) this.#armed = false;
    this.callback(this);
    if (!this.#armed) off("timer", this.id);
  }

  static set(callback: TimerCallback, interval = 0, repeat = 0): Timer {
    const timer = new Timer(callback);
    timer.#arm(interval, repeat);
    return timer;
  }

  static repeat(callback: TimerCallback, interval: number): Timer {
    return Timer.set(callback, interval, interval);
  }

  static schedule(timer: Timer, interval = 0, repeat = 0): void {
    on("timer", timer.id, (last) => timer.#fire(last as boolean));
    timer.#arm(interval, repeat);
  }

  static clear(timer: Timer | undefined | null): void {
    if (!timer) return;
    timer.#armed = false;
    off("timer", timer.id);
    tell("timer.clear", timer.id);
  }

  static delay(milliseconds: number): void {
    host("timer.delay", milliseconds);
  }
}

export default Timer;
