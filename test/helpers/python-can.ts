// python-can programs for CAN tests, on Debian's python3 (python3-can, python3-msgpack). Each
// test's bus is a multicast group and port of its own.
import { spawnSync } from "node:child_process";
import { createSocket } from "node:dgram";
import { python, SYSTEM_PYTHON, type PythonRun } from "./python.ts";

/** True when Debian's python3 with python-can and msgpack is there. */
export const hasPythonCan = spawnSync(SYSTEM_PYTHON, ["-c", "import can, msgpack"]).status === 0;

/**
 * A UDP port the OS picks (port 0), then held for the rest of this process by a socket that
 * shares it (SO_REUSEADDR, as python-can's and the simulator's do): the OS hands it to no other
 * port-0 request while held, so another test run on the machine never gets it.
 */
async function heldPort(): Promise<number> {
  const probe = createSocket({ type: "udp6" });
  await new Promise<void>((resolve, reject) => {
    probe.once("error", reject);
    probe.bind(0, "::", () => resolve());
  });
  const port = probe.address().port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const holder = createSocket({ type: "udp6", reuseAddr: true });
  await new Promise<void>((resolve, reject) => {
    holder.once("error", reject);
    holder.bind(port, "::", () => resolve());
  });
  holder.unref();
  return port;
}

/**
 * A group and a port no other test uses: ff15:7079:7468:6f6e:6465:6d6f:6d63:XXXX, and a port
 * of this process's own. The port matters too: python-can binds to any address, and Linux hands
 * such a socket the datagrams of every group some socket on the machine joined on its port.
 */
export async function testBus(): Promise<{ group: string; port: number; spec: string }> {
  let last = 0x6173;
  while (last === 0x6173) last = 1 + Math.floor(Math.random() * 0xfffe);
  const group = `ff15:7079:7468:6f6e:6465:6d6f:6d63:${last.toString(16)}`;
  const port = await heldPort();
  return { group, port, spec: `udp-multicast:[${group}]:${port}` };
}

/** Runs a python-can program with `args` (sys.argv[1:]). */
export function pythonCan(script: string, args: string[] = [], timeout = 20000): PythonRun {
  return python(script, args, timeout, SYSTEM_PYTHON);
}
