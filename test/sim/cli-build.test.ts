// `xsock build` and `xsock flash`: what they say when the Moddable SDK or ESP-IDF is missing,
// and the mcconfig command line they run (against a stand-in mcconfig that reports it).
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { readImage } from "../../host-sim/ota-image.ts";
import { ROOT, runXsock } from "../helpers/sim.ts";

/** What -p names for a board in boards/: its folder in this checkout, a Moddable target. */
/** -p for a board of this checkout, built from `app`: its folder, relative to the app when the checkout's path has capitals (mcconfig lowercases -p). */
const boardTarget = (id: string, app = ROOT) => {
  const dir = join(ROOT, "boards", id);
  return `esp32:${dir === dir.toLowerCase() ? dir : relative(app, dir)}`;
};
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

/** An environment without the SDK, ESP-IDF, a CI flag or a port of the machine's own. */
function bare(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1", HOME: mkdtempSync(join(tmpdir(), "xsock-home-")), ...extra };
  for (const name of ["MODDABLE", "IDF_PATH", "IDF_PYTHON_ENV_PATH", "UPLOAD_PORT", "CI"]) if (!(name in extra)) delete env[name];
  return env;
}

/** A Moddable SDK folder whose mcconfig prints its arguments and UPLOAD_PORT, and exits with $FAKE_EXIT. */
function fakeSdk(): string {
  const sdk = mkdtempSync(join(tmpdir(), "xsock-sdk-"));
  const bin = join(sdk, "build/bin/lin/release");
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, "mcconfig"), '#!/bin/sh\necho "# xsc main.xsb"\necho "mcconfig $*"\necho "UPLOAD_PORT=$UPLOAD_PORT"\necho "cwd=$(pwd)"\nexit ${FAKE_EXIT:-0}\n');
  chmodSync(join(bin, "mcconfig"), 0o755);
  return sdk;
}

/** An ESP-IDF folder with tools/idf.py, as far as xsock looks. */
function fakeIdf(): string {
  const idf = mkdtempSync(join(tmpdir(), "xsock-idf-"));
  mkdirSync(join(idf, "tools"));
  writeFileSync(join(idf, "tools/idf.py"), "");
  return idf;
}

describe("xsock build and flash", function () {
  this.timeout(20000);
  if (process.platform !== "linux") return;

  for (const command of ["build", "flash"]) {
    it(`${command}: without $MODDABLE, says what is missing and how to install it, exit 1, no stack trace`, async () => {
      const run = await runXsock([command, "--board", "esp32/nodemcu"], { env: bare() });
      assert.equal(run.code, 1);
      assert.match(run.stderr, new RegExp(`^xsock ${command}: the Moddable SDK is missing: \\$MODDABLE is not set\\. Install it \\(git clone https://github\\.com/Moddable-OpenSource/moddable\\), build its tools \\(cd moddable/build/makefiles/lin && make\\), and export MODDABLE=`));
      assert.equal(run.stderr.split("\n").length, 2, "one line");
      assert.equal(run.stdout, "");
    });
  }

  it("says when $MODDABLE's tools are not built, and when ESP-IDF is missing or not set up", async () => {
    const empty = mkdtempSync(join(tmpdir(), "xsock-sdk-"));
    const unbuilt = await runXsock(["build"], { env: bare({ MODDABLE: empty }) });
    assert.equal(unbuilt.code, 1);
    assert.match(unbuilt.stderr, /^xsock build: the Moddable SDK's tools are not built \(no .*\/build\/bin\/lin\/release\/mcconfig\): cd .*\/build\/makefiles\/lin && make\n$/);

    const sdk = fakeSdk();
    const noIdf = await runXsock(["flash", "--board", "esp32/esp32s3"], { env: bare({ MODDABLE: sdk }) });
    assert.equal(noIdf.code, 1);
    assert.match(noIdf.stderr, /^xsock flash: ESP-IDF is missing: \$IDF_PATH is not set and there is no .*\/esp32\/esp-idf; install it as Moddable's ESP32 guide says/);
    const notSourced = await runXsock(["flash"], { env: bare({ MODDABLE: sdk, IDF_PATH: fakeIdf() }) });
    assert.equal(notSourced.code, 1);
    assert.match(notSourced.stderr, /^xsock flash: ESP-IDF's tools are not on PATH in this shell: source .*\/export\.sh\n$/);
  });

  it("runs mcconfig -m -p esp32:<board folder> -t build in the app's folder, with -d and the config pairs, and says so first", async () => {
    const sdk = fakeSdk();
    const run = await runXsock(["build", "examples/tcp-echo-server", "--board", "esp32/nodemcu", "-d", "ssid=lab", "password=secret 123"], {
      env: bare({ MODDABLE: sdk, IDF_PATH: fakeIdf(), IDF_PYTHON_ENV_PATH: "/env" }),
    });
    assert.equal(run.code, 0, run.stderr);
    const args = `-d -m -p ${boardTarget("esp32/nodemcu", join(ROOT, "examples/tcp-echo-server"))} -t build manifest.json ssid=lab password=secret 123`;
    assert.match(run.stderr, new RegExp(`^mcconfig ${escape(args)}$`, "m"));
    const app = join(ROOT, "examples/tcp-echo-server");
    assert.match(run.stderr, new RegExp(`^-- in ${escape(app)}: ${escape(join(sdk, "build/bin/lin/release/mcconfig"))} ${escape(args)}$`, "m"), "the line it runs, before it runs");
    assert.match(run.stderr, /^cwd=.*\/examples\/tcp-echo-server$/m);
    assert.match(run.stderr, /^-- built esp32\/nodemcu \(debug\) in \d+(\.\d s| ms)$/m);
  });

  it("flashes through --port as Moddable does, in UPLOAD_PORT; a failing mcconfig fails the run", async () => {
    const env = bare({ MODDABLE: fakeSdk(), IDF_PATH: fakeIdf(), IDF_PYTHON_ENV_PATH: "/env" });
    const run = await runXsock(["flash", "--board", "esp32/wt32_eth01", "--port", "/dev/ttyUSB7"], { env });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, new RegExp(`^mcconfig -m -p ${escape(boardTarget("esp32/wt32_eth01"))} manifest\\.json$`, "m"), "no -t build: mcconfig builds and deploys");
    assert.match(run.stderr, /^UPLOAD_PORT=\/dev\/ttyUSB7$/m);
    const failed = await runXsock(["flash", "--port", "/dev/ttyUSB7"], { env: { ...env, FAKE_EXIT: "2" } });
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /xsock flash: mcconfig failed \(exit code 2\)\n$/);
  });

  it("flashes a board whose target is another's through its folder (ESP32-S3 + W5500), and passes an SDK target's name as it is", async () => {
    const env = bare({ MODDABLE: fakeSdk(), IDF_PATH: fakeIdf(), IDF_PYTHON_ENV_PATH: "/env" });
    const s3 = await runXsock(["flash", "--board", "esp32/esp32s3_eth", "--port", "/dev/ttyACM0"], { env });
    assert.equal(s3.code, 0, s3.stderr);
    assert.match(s3.stderr, new RegExp(`^mcconfig -m -p ${escape(boardTarget("esp32/esp32s3_eth"))} manifest\\.json$`, "m"));
    assert.match(s3.stderr, /^-- flashed esp32\/esp32s3_eth \(release\) in /m);
    const sdkTarget = await runXsock(["build", "--board", "esp32/m5stack"], { env });
    assert.equal(sdkTarget.code, 0, sdkTarget.stderr);
    assert.match(sdkTarget.stderr, /^mcconfig -m -p esp32\/m5stack -t build manifest\.json$/m, "no board folder: the SDK's target, by name");
  });

  it("refuses a bad config pair and a folder with no manifest.json, with exit code 2", async () => {
    const env = bare({ MODDABLE: fakeSdk() });
    const pair = await runXsock(["build", "--board", "lin", ".", "ssid"], { env });
    assert.equal(pair.code, 2);
    assert.match(pair.stderr, /bad config "ssid": use key=value/);
    const folder = await runXsock(["build", "--board", "lin", "test"], { env });
    assert.equal(folder.code, 2);
    assert.match(folder.stderr, /no manifest\.json in .*\/test\n$/);
  });

  it("build --sim writes the simulator's firmware as an OTA image, its version from the config, with no SDK", async () => {
    const out = join(mkdtempSync(join(tmpdir(), "xsock-image-")), "xsock-0.3.0.bin");
    const run = await runXsock(["build", "--sim", "-o", out, "--board", "esp32/esp32s3", "version=0.3.0"], { env: bare() });
    assert.equal(run.code, 0, run.stderr);
    const image = readFileSync(out);
    assert.equal(run.stderr, `-- wrote ${out}: ${image.length} bytes, version 0.3.0, for esp32/esp32s3\n`);
    const firmware = readImage(image, "esp32/esp32s3");
    assert.equal(firmware.version, "0.3.0");
    assert.match(firmware.app.code, /AT version:/);
    assert.throws(() => readImage(image, "esp32/nodemcu"), /the image is for esp32\/esp32s3, not esp32\/nodemcu/);
  });
});
