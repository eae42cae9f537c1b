// python-can programs for CAN tests, on Debian's python3 (python3-can, python3-msgpack). Each
// test's bus is a multicast group and port of its own.
import { spawnSync } from "node:child_process";
import { python, SYSTEM_PYTHON, type PythonRun } from "./python.ts";

/** True when Debian's python3 with python-can and msgpack is there. */
export const hasPythonCan = spawnSync(SYSTEM_PYTHON, ["-c", "import can, msgpack"]).status === 0;

/**
 * A group and a port no other test uses: ff15:7079:7468:6f6e:6465:6d6f:6d63:XXXX, a random port.
 * The port matters too: python-can binds to any address, and Linux hands such a socket the
 * datagrams of every group some socket on the machine joined on its port.
 */
export function testBus(): { group: string; port: number; spec: string } {
  let last = 0x6173;
  while (last === 0x6173) last = 1 + Math.floor(Math.random() * 0xfffe);
  const group = `ff15:7079:7468:6f6e:6465:6d6f:6d63:${last.toString(16)}`;
  const port = 20000 + Math.floor(Math.random() * 30000);
  return { group, port, spec: `udp-multicast:[${group}]:${port}` };
}

/** Runs a python-can program with `args` (sys.argv[1:]). */
export function pythonCan(script: string, args: string[] = [], timeout = 20000): PythonRun {
  return python(script, args, timeout, SYSTEM_PYTHON);
}
