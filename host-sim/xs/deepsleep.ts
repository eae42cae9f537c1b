// `xsock/deepsleep-native` (drivers/sleep/esp32/deepsleep.c on the board, ESP-IDF's esp_sleep):
// the board goes down at once, its sockets with it, and boots again after ms (host-sim/devices/system.ts).
import { host } from "./bridge";

class DeepSleep {
  constructor(options: { ms: number }) {
    const ms = Math.trunc(Number(options?.ms));
    if (!(ms >= 1)) throw new RangeError("1 ms or more");
    host("system.deepSleep", ms);
    throw new Error("the board did not sleep");
  }
}

export default DeepSleep;
