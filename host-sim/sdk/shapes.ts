// What each platform module the simulator provides looks like in Moddable: its exports, the
// statics of its default export, the members of its instances' prototype chain, and the globals
// it sets, as read from the SDK's source (esp32, the board) with lin's differences. The
// simulator's proxies (host-sim/xs/) are tested against this table, and the project's own .d.ts
// files for modules that @moddable/typings lacks follow it. When Moddable changes, change it here.

/** The Moddable SDK release the tables in this folder were read from. */
export const MODDABLE_SDK = { version: "8.2.3", commit: "48ee02d8" } as const;

export interface ModuleShape {
  /** Moddable's source under $(MODDABLE), or xsock's for its own native modules: esp32's, and lin's. */
  source: { esp32: string; lin?: string };
  /** Named exports besides `default`. */
  named?: string[];
  /** The default export: a class, or a plain object; absent when the module has no exports. */
  default?: {
    kind: "class" | "object";
    /** Static members, on the class and the classes it extends. */
    statics: string[];
    /** Members of the instances' prototype chain, below Object.prototype. */
    prototype?: string[];
  };
  /** Globals the module sets, with their static members. */
  globals?: Record<string, string[]>;
  /** The constructor options esp32's implementation reads. */
  options?: string[];
  /** Where lin's module differs, for firmware that runs on both. */
  lin?: string;
}

const IO_STREAM = ["close", "read", "write", "format"];

export const MODULE_SHAPES: Record<string, ModuleShape> = {
  timer: {
    source: { esp32: "modules/base/timer/timer.js", lin: "modules/base/timer/timer.js" },
    default: { kind: "class", statics: ["clear", "delay", "repeat", "schedule", "set"], prototype: [] },
  },
  system: {
    source: { esp32: "modules/io/system/system.js", lin: "modules/io/manifests/lin/system.js" },
    globals: { System: ["clearInterval", "clearTimeout", "deepSleep", "resolve", "restart", "setInterval", "setTimeout"] },
    lin: "System has only resolve, setInterval and clearInterval: no restart, deepSleep, setTimeout or clearTimeout. esp32's also sets the global `device` (the simulator does not).",
  },
  time: {
    source: { esp32: "modules/base/time/time.js", lin: "modules/base/time/time.js" },
    default: { kind: "class", statics: ["delta", "dst", "set", "ticks", "timezone"], prototype: [] },
    lin: "lin's natives (modules/base/time/lin/modTime.c) do nothing: set leaves the clock as it is.",
  },
  sntp: {
    source: { esp32: "modules/network/sntp/sntp.js", lin: "modules/network/sntp/sntp.js" },
    // SNTP extends the socket module's Socket: its statics and prototype come along.
    default: {
      kind: "class",
      statics: ["connected", "disconnected", "error", "readable", "retry", "time", "writable"],
      prototype: ["callback", "close", "failed", "get", "read", "start", "suspend", "write"],
    },
  },
  instrumentation: {
    source: { esp32: "modules/base/instrumentation/instrumentation.js", lin: "modules/base/instrumentation/instrumentation.js" },
    default: { kind: "class", statics: ["get", "map", "name"], prototype: [] },
  },
  "embedded:io/serial": {
    source: { esp32: "modules/io/serial/esp32/serial.js", lin: "modules/io/serial/lin/serial.js" },
    default: { kind: "class", statics: [], prototype: IO_STREAM },
    options: ["port", "baud", "receive", "transmit", "flowControl", "dataTerminalReady", "requestToSend", "clearToSend", "format", "onReadable", "onWritable", "onError", "target"],
    lin: "write takes only an ArrayBuffer (esp32: any buffer); the tty is the `device` option.",
  },
  "embedded:io/socket/tcp": {
    source: { esp32: "modules/io/socket/lwip/tcp.js", lin: "modules/io/socket/lin/tcp.js" },
    default: { kind: "class", statics: [], prototype: [...IO_STREAM, "remoteAddress", "remotePort"] },
    options: ["address", "host", "port", "from", "nodelay", "keepalive", "format", "onReadable", "onWritable", "onError", "target"],
  },
  "embedded:io/socket/udp": {
    source: { esp32: "modules/io/socket/lwip/udp.js", lin: "modules/io/socket/lin/udp.js" },
    default: { kind: "class", statics: [], prototype: [...IO_STREAM, "add", "remove"] },
    options: ["address", "port", "multicast", "format", "onReadable", "onWritable", "onError", "target"],
  },
  "embedded:io/socket/listener": {
    source: { esp32: "modules/io/socket/lwip/listener.js", lin: "modules/io/socket/lin/listener.js" },
    default: { kind: "class", statics: [], prototype: ["close", "read", "format", "port"] },
    options: ["address", "port", "format", "onReadable", "onError", "target"],
  },
  "embedded:io/socket/tcp/tls": {
    source: { esp32: "examples/io/tcp/tlssocket/tlssocket.js", lin: "examples/io/tcp/tlssocket/tlssocket.js" },
    default: { kind: "class", statics: [], prototype: IO_STREAM },
    options: ["host", "address", "port", "secure", "format", "onReadable", "onWritable", "onError", "target"],
  },
  "embedded:io/spi": {
    source: { esp32: "modules/io/spi/spi.js" },
    default: { kind: "class", statics: [], prototype: [...IO_STREAM, "transfer", "flush", "transform"] },
    lin: "not on lin",
  },
  "embedded:io/digital": {
    source: { esp32: "modules/io/digital/digital.js" },
    default: {
      kind: "class",
      statics: ["ActiveLow", "Falling", "Input", "InputPullDown", "InputPullUp", "InputPullUpDown", "Output", "OutputOpenDrain", "Rising"],
      prototype: IO_STREAM,
    },
    lin: "not on lin",
  },
  wifi: {
    source: { esp32: "modules/network/wifi/esp32/wifi.js", lin: "modules/network/wifi/sim/wifi.js" },
    default: {
      kind: "class",
      statics: [
        "Mode", "accessPoint", "close", "connect", "connected", "disconnect", "disconnected", "gotIP", "lostIP", "mode", "scan",
        "station_connect", "station_disconnect",
      ],
      prototype: ["build", "close", "onNotify"],
    },
  },
  ethernet: {
    source: { esp32: "modules/network/ethernet/ethernet.js" },
    default: {
      kind: "class",
      statics: ["connected", "disconnected", "gotIP", "lostIP", "start", "useDHCP", "useStaticIP"],
      prototype: ["build", "close", "onNotify"],
    },
    lin: "not on lin (its manifest brings the simulated Wi-Fi instead)",
  },
  net: {
    source: { esp32: "modules/network/net/net.js", lin: "modules/network/net/net.js" },
    default: { kind: "class", statics: ["get", "resolve"], prototype: [] },
  },
  socket: {
    source: { esp32: "modules/network/socket/socket.js", lin: "modules/network/socket/socket.js" },
    named: ["Listener", "Socket"],
    default: { kind: "object", statics: ["Listener", "Socket"] },
  },
  ota: {
    source: { esp32: "build/devices/esp32/modules/ota/ota.js" },
    // A frozen prototype; write takes what xsmcGetBufferReadable reads (an ArrayBuffer, a byte typed array, a DataView).
    default: { kind: "class", statics: [], prototype: ["cancel", "complete", "write"] },
    lin: "not on lin: its manifest's \"...\" section is an error (\"ESP32 OTA is not supported on this platform\")",
  },
  preference: {
    source: { esp32: "modules/files/preference/preference.js", lin: "modules/files/preference/lin/preference.js" },
    default: { kind: "class", statics: ["delete", "get", "keys", "set"], prototype: [] },
  },
  "xsock/can/twai-native": {
    source: { esp32: "drivers/can/twai/esp32/twai-native.js", lin: "drivers/can/twai/lin/twai-native.js" },
  },
  "xsock/ipconfig-native": {
    source: { esp32: "drivers/ipconfig/esp32/ipconfig-native.js", lin: "drivers/ipconfig/lin/ipconfig-native.js" },
  },
  "xsock/ping-native": {
    source: { esp32: "drivers/ping/esp32/ping-native.js", lin: "drivers/ping/lin/ping-native.js" },
  },
  "xsock/deepsleep-native": {
    source: { esp32: "drivers/sleep/esp32/deepsleep-native.js", lin: "drivers/sleep/lin/deepsleep-native.js" },
  },
  "xsock/wifi/softap-stations": {
    source: { esp32: "drivers/wifi/esp32/esp32/softap-stations-native.js", lin: "drivers/wifi/esp32/lin/softap-stations-native.js" },
  },
};
