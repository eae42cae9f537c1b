// Moddable's `system` module (modules/io/system), which @moddable/typings leaves out.
declare module "system" {
  const System: {
    /** Restarts the chip (esp_restart): it does not return. */
    restart(): never;
    deepSleep(): never;
  };
  export default System;
}
