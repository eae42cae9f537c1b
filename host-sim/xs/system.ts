// Moddable's `system` module: restart.
import { host } from "./bridge";

const System = {
  /** As esp_restart(): it does not return; the board boots again. */
  restart(): never {
    host("system.restart");
    throw new Error("the board did not restart");
  },
};

export default System;
