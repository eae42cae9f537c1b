// Deep sleep on ESP-IDF's esp_sleep, implemented in deepsleep.c; ../deepsleep-native.d.ts describes it.
class DeepSleep {
	constructor(options) @ "xs_deepsleep";
}

export default DeepSleep;
