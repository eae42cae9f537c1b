// The deliveries `xsock sim -v` logs on stderr, one line each: `xs: <kind>: <n> computrons ...`.
import type { SimProcess } from "../test/helpers/sim.ts";

/** Calls `onDelivery` with each logged delivery's kind and computrons. */
export function onDeliveries(sim: SimProcess, onDelivery: (kind: string, computrons: number) => void): void {
  let partial = "";
  sim.proc.stderr!.on("data", (d: Buffer) => {
    const lines = (partial + d.toString()).split("\n");
    partial = lines.pop()!;
    for (const line of lines) {
      const m = /^xs: ([^:]+): (\d+) computrons/.exec(line);
      if (m) onDelivery(m[1], Number(m[2]));
    }
  });
}
