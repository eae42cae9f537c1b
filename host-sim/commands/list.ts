// `xsock list`: the serial ports, with the ESP32-like ones marked.
import type { Command } from "commander";
import { listPorts, type SerialPortEntry } from "../serial/ports.ts";
import { conventions, outputStyle, type OutputOptions, type Style } from "./common.ts";

/** The ports as a table, one a line, ESP32-like ones marked with their bridge. */
export function formatPorts(ports: SerialPortEntry[], style: Style): string {
  const rows = ports.map((p) => [p.path, p.vid ? `${p.vid}:${p.pid ?? "????"}` : "-", p.manufacturer ?? "-", p.bridge ? `ESP32-like (${p.bridge})` : ""]);
  const header = ["PORT", "VID:PID", "MANUFACTURER", ""];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[], last = (c: string) => c) => [...cells.slice(0, -1).map((c, i) => c.padEnd(widths[i])), last(cells.at(-1)!)].join("  ").trimEnd();
  return [style.paint("bold", line(header)), ...rows.map((r) => line(r, (c) => (c ? style.paint("ok", c) : c)))].join("\n") + "\n";
}

export function registerList(program: Command): void {
  const command = program
    .command("list")
    .description("list the serial ports, marking the ESP32-like ones (CP210x, CH340/CH9102, FTDI, Espressif native USB)")
    .option("--json", "print the ports as a JSON array");
  conventions(command, ["xsock list", "xsock list --json | jq -r '.[] | select(.bridge) | .path'"]).action(async (opts: OutputOptions & { json?: boolean }) => {
    const ports = await listPorts();
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(ports, null, 2)}\n`);
      return;
    }
    const style = outputStyle(opts);
    if (!ports.length) {
      if (!style.quiet) process.stderr.write("no serial ports found: is the board plugged in, and its USB bridge's driver loaded?\n");
      return;
    }
    process.stdout.write(formatPorts(ports, style));
  });
}
