// One ICMP echo on ESP-IDF's esp_ping, implemented in ping.c; ../ping-native.d.ts describes it.
class PingNative @ "xs_ping_destructor" {
	constructor(options) @ "xs_ping";
	close() @ "xs_ping_close";
}

export default PingNative;
