import assert from "node:assert/strict";
import { loadBoard } from "../../host-sim/board.ts";
import { buildFirmware, readManifest } from "../../host-sim/firmware.ts";
import { ROOT } from "../helpers/sim.ts";

describe("firmware build", () => {
  const board = loadBoard("esp32/nodemcu");

  it("names modules from the root manifest as mcconfig does", () => {
    const { modules } = readManifest(ROOT, board);
    const names = [...modules.keys()].sort();
    for (const name of ["at/basic", "at/console", "at/links", "at/parser", "at/tcpip", "main", "version", "xsock/socket", "xsock/uart"]) assert.ok(names.includes(name), name);
  });

  it("bundles the root app with the board's config in mc/config, and maps each line back to its source", async () => {
    const { app: firmware, bridge } = await buildFirmware(ROOT, board, { extra: 42 });
    assert.doesNotMatch(firmware.code, /host-sim\/xs\/codec\.ts/, "the codec lives in the bridge, outside the firmware's heap count");
    assert.match(bridge.code, /host-sim\/xs\/codec\.ts/);
    assert.match(firmware.code, /"console": \{ "port": 1, "transmit": 17, "receive": 16, "cts": 15, "rts": 14, "baud": 115200 \}/);
    assert.match(firmware.code, /"extra": 42/);
    assert.doesNotMatch(firmware.code, /__privateGet/, "private fields stay native: XS has them");
    const line = firmware.code.split("\n").findIndex((l) => l.includes("busy p...")) + 1;
    assert.match(firmware.source(line) ?? "", /src\/at\/console\.ts:\d+$/);
  });
});
