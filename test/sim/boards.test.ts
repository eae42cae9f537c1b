// Every board in boards/ boots in the simulator: `ready` on its console, an Ethernet board's link
// at boot with no CWJAP, and its chip in AT+GMR.
import assert from "node:assert/strict";
import { startSim } from "xsock/sim";
import { boardIds, loadBoard } from "../../host-sim/board.ts";
import { UartClient } from "../helpers/uart.ts";

describe("every board boots in the simulator", function () {
  this.timeout(30000);
  for (const id of boardIds()) {
    it(`${id}: ready, its link, its chip`, async () => {
      const board = loadBoard(id);
      const sim = await startSim({ board: id, uart: "pty" });
      const uart = await UartClient.open(sim.uart.path);
      try {
        const wired = board.network.driver === "ethernet/esp32";
        const boot = wired ? "\r\nready\r\n+ETH_CONNECTED\r\n+ETH_GOT_IP:127.0.0.1\r\n" : "\r\nready\r\n";
        assert.equal(await uart.expect(boot), boot);
        assert.equal(await uart.command("ATE0"), "ATE0\r\n\r\nOK\r\n");
        assert.match(await uart.command("AT+GMR"), new RegExp(`^AT version:\\S+\\(xsock-[\\d.]+ - ${board.chip} - `));
        assert.equal(await uart.command("AT+CIPSTATUS"), wired ? "STATUS:2\r\n\r\nOK\r\n" : "STATUS:5\r\n\r\nOK\r\n");
      } finally {
        await uart.close();
        await sim.stop();
      }
    });
  }
});
