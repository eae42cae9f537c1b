// lin, the platform of builds and tests, has no esp_ping: the module links, and every echo goes
// unanswered.
import Timer from "timer";

class PingNative {
	#timer;
	constructor(options) {
		if (typeof options?.address !== "string") throw new RangeError("not an IP address");
		const onReply = options.onReply;
		this.#timer = Timer.set(() => onReply(undefined), Math.max(1, Number(options.timeout) || 1));
	}
	close() {
		if (this.#timer !== undefined) Timer.clear(this.#timer);
		this.#timer = undefined;
	}
}

export default PingNative;
