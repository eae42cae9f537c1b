// What AT+GMR reports. The AT version is the ESP-AT release whose command set xsock follows.
export const XSOCK_VERSION = "0.1.0";
export const AT_VERSION = "3.2.0.0";
export const BUILD_DATE = "Nov 21 2026 00:00:00";
