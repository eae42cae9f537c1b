/*
 * Deep sleep for xsock (see ../deepsleep-native.d.ts), as ESP-AT's AT+GSLP does it: a timer
 * wake-up, then esp_deep_sleep_start(), which does not return; the chip boots again when the
 * timer fires. Moddable 8.2.3's System.deepSleep is empty on ESP32.
 *
 * Written against ESP-IDF's esp_sleep API (esp_sleep.h, component esp_hw_support): compiled for
 * syntax and types against ESP-IDF v6.0's headers (ESP32-C3), not linked nor run on a chip.
 */

#include "xsmc.h"
#include "xsHost.h"
#include "mc.xs.h"			// for xsID_ values

#include "esp_sleep.h"

void xs_deepsleep(xsMachine *the)
{
	int32_t ms;

	if (!xsmcArgc || !xsmcTest(xsArg(0)))
		xsTypeError("options required");
	xsmcVars(1);
	xsmcGet(xsVar(0), xsArg(0), xsID_ms);
	ms = xsmcToInteger(xsVar(0));
	if (ms < 1)
		xsRangeError("1 ms or more");

	esp_sleep_enable_timer_wakeup((uint64_t)ms * 1000);
	esp_deep_sleep_start();
}
