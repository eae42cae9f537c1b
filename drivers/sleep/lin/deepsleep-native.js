// lin, the platform of builds and tests, cannot sleep: the module links, and sleeping throws.
class DeepSleep {
	constructor() {
		throw new Error("no deep sleep on lin");
	}
}

export default DeepSleep;
