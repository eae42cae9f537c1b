// Deep sleep with a timer wake-up, on ESP-IDF's esp_sleep (esp_sleep_enable_timer_wakeup,
// esp_deep_sleep_start): Moddable 8.2.3's System.deepSleep does nothing on ESP32 (its
// modules/io/system/system.c sleeps only on the ESP8266). Implemented in esp32/deepsleep.c.

export interface DeepSleepOptions {
  /** How long to sleep, in ms (1 to 2^31 - 1); then the chip boots again. */
  ms: number;
}

export default class DeepSleep {
  /** Sleeps at once and does not return: the chip resets, its RAM and sockets gone. */
  constructor(options: DeepSleepOptions);
}
