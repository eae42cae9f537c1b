// TWAI is the ESP32's CAN controller. A build for another platform (lin, for builds and
// tests) has none: it links, and starting the driver says why it cannot run.
const NO_TWAI = "TWAI needs an ESP32: this build's platform has no TWAI controller";

class TwaiNative {
	constructor() {
		throw new Error(NO_TWAI);
	}
	write() {
		throw new Error(NO_TWAI);
	}
	read() {
		throw new Error(NO_TWAI);
	}
	status() {
		throw new Error(NO_TWAI);
	}
	start() {
		throw new Error(NO_TWAI);
	}
	recover() {
		throw new Error(NO_TWAI);
	}
	close() {}
}

export default TwaiNative;
