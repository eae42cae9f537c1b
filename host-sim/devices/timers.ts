// Moddable timers on Node's clock.
import type { Host } from "../host.ts";

export function timers(host: Host): { close(): void } {
  const active = new Map<number, NodeJS.Timeout>();
  const clear = (id: number) => {
    clearTimeout(active.get(id));
    active.delete(id);
  };
  host.handle("timer.set", (id: number, interval: number, repeat: number) => {
    clear(id);
    const fire = () => {
      if (repeat > 0) active.set(id, setTimeout(fire, repeat));
      else active.delete(id);
      host.post("timer", id, repeat <= 0);
    };
    active.set(id, setTimeout(fire, interval));
  });
  host.handle("timer.clear", (id: number) => clear(id));
  // Timer.delay blocks the whole board, as it does on the chip.
  host.handle("timer.delay", (ms: number) => {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Math.max(0, ms));
  });
  return {
    close() {
      for (const id of [...active.keys()]) clear(id);
    },
  };
}
