// The native TWAI controller, implemented in twai.c; ../twai-native.d.ts describes it.
class TwaiNative @ "xs_twai_destructor" {
	constructor(options) @ "xs_twai";
	write(frame) @ "xs_twai_write";
	read(into) @ "xs_twai_read";
	status() @ "xs_twai_status";
	start() @ "xs_twai_start";
	recover() @ "xs_twai_recover";
	close() @ "xs_twai_close";
}

export default TwaiNative;
