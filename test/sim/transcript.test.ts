// The same console session on two engines: test/transcript/session.py, typed with pyserial over
// `xsock sim`'s pty, must print test/transcript/xsock-sim.txt byte for byte. The same script run
// by hand against the firmware on Moddable's own lin runtime (mcsim) printed
// test/transcript/moddable-lin.txt; the two differ only where the platforms do, as listed here.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { needs, ROOT, startSim } from "../helpers/sim.ts";
import { SYSTEM_PYTHON } from "../helpers/python.ts";

const DIR = join(ROOT, "test/transcript");
const hasPyserial = () => spawnSync(SYSTEM_PYTHON, ["-c", "import serial"]).status === 0;

/** Runs the session against a tty; resolves with what it printed. */
function session(tty: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const proc = spawn(SYSTEM_PYTHON, [join(DIR, "session.py"), tty], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    proc.stdout.on("data", (d: Buffer) => (out += d.toString()));
    proc.stderr.on("data", (d: Buffer) => (err += d.toString()));
    proc.on("exit", (code) => (code === 0 ? resolve(out) : reject(new Error(`session.py exited ${code}: ${err}\n${out}`))));
  });
}

/** The transcript's steps: each command and what came back. */
function steps(transcript: string): Map<string, string> {
  const map = new Map<string, string>();
  const lines = transcript.split("\n");
  for (let i = 0; i < lines.length; i++) if (lines[i].startsWith("> ")) map.set(lines[i], lines[i + 1]);
  return map;
}

/** Where Moddable's lin runtime differs from the board the simulator plays, and why. */
const PLATFORM_DIFFERENCES: Record<string, string> = {
  "> AT+CMD?": "lin has no TWAI controller (drivers/can/twai/lin/twai-native.js), so its table has no CAN commands",
  "> AT+RST": "lin's System has no restart (modules/io/manifests/lin/system.js), so AT+RST answers ERROR there",
};

describe("one console session on two engines", function () {
  this.timeout(60000);

  it("prints the recorded transcript over xsock sim's pty, byte for byte", async function () {
    needs(this, "pyserial (python3-serial)", hasPyserial());
    const sim = await startSim();
    try {
      assert.equal(await session(sim.uart), readFileSync(join(DIR, "xsock-sim.txt"), "utf8"));
    } finally {
      await sim.stop();
    }
  });

  it("matches Moddable's lin runtime everywhere but where the platforms differ", () => {
    const sim = steps(readFileSync(join(DIR, "xsock-sim.txt"), "utf8"));
    const lin = steps(readFileSync(join(DIR, "moddable-lin.txt"), "utf8"));
    assert.deepEqual([...lin.keys()], [...sim.keys()], "the same steps");
    const differ = [...sim.keys()].filter((step) => sim.get(step) !== lin.get(step));
    assert.deepEqual(differ, Object.keys(PLATFORM_DIFFERENCES));
  });
});
