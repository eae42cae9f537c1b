// `xsock/ota` on lin, the platform of builds and tests: Moddable has no `ota` module there, so
// the firmware links and an update fails at its start (the console answers ERROR).
export default class OTA {
  constructor() {
    throw new Error("no OTA on lin");
  }
  write(_data: ArrayBufferLike | ArrayBufferView): void {}
  cancel(): void {}
  complete(): void {}
}
