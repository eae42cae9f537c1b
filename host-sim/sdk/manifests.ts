// Which of the Moddable SDK's manifests bring which platform module, per platform, as read from
// the SDK's source. The simulator resolves a platform module only when the app's manifests reach
// one of these, as mcconfig does: an app that would not find a module on the board does not find
// it in the simulator either. Paths are relative to $(MODDABLE).
import { MODDABLE_SDK } from "./shapes.ts";

export { MODDABLE_SDK };

/** What one SDK manifest does on one platform: the manifests it includes and the modules it maps. */
export interface SdkSection {
  include?: string[];
  /** Platform module specifiers (of those the simulator provides) that it maps. */
  modules?: string[];
  /** It includes the target's own manifest ($(SUBPLATFORMMANIFEST)): the board folder's manifest.json. */
  target?: boolean;
  /** mcconfig stops with this message: the manifest has no such platform. */
  error?: string;
}

/** One SDK manifest: what it does everywhere, and per platform (`esp32`, `esp32/<board>`, `lin`), as mcconfig picks a section. */
export interface SdkManifest {
  all?: SdkSection;
  platforms: Record<string, SdkSection>;
}

const IO_NET_MANIFESTS = ["modules/network/net/manifest.json", "modules/network/socket/manifest.json", "modules/network/sntp/manifest.json"];

export const SDK_MANIFESTS: Record<string, SdkManifest> = {
  "examples/manifest_base.json": {
    all: { include: ["modules/files/resource/manifest.json", "examples/manifest_typings.json"] },
    platforms: { esp32: { include: ["build/devices/esp32/manifest.json"] }, lin: { include: ["build/simulators/manifest.json"] } },
  },
  "build/devices/esp32/manifest.json": {
    all: { include: ["modules/files/preference/manifest.json"], modules: ["time", "timer"] },
    platforms: { "esp32/*": { target: true }, esp32: {} },
  },
  "build/simulators/manifest.json": { all: { modules: ["time", "timer"] }, platforms: {} },
  "build/devices/esp32/targets/wt32_eth01/manifest.json": { all: { include: ["modules/io/manifest.json"] }, platforms: {} },
  "examples/manifest_net.json": {
    platforms: {
      // The ECMA-419 Wi-Fi (embedded:network/interface/wifi) on ESP32, not the `wifi` module.
      esp32: { include: [...IO_NET_MANIFESTS, "modules/io/wifi/manifest.json"] },
      "esp32/wt32_eth01": { include: [...IO_NET_MANIFESTS, "modules/io/wifi/manifest.json", "modules/network/ethernet/manifest_net_ethernet.json"] },
      lin: { include: [...IO_NET_MANIFESTS, "modules/network/wifi/manifest.json"] },
    },
  },
  "modules/network/net/manifest.json": {
    all: { include: ["examples/manifest_net.json"] },
    platforms: { esp32: { modules: ["net"] }, lin: { modules: ["net"] } },
  },
  "modules/network/sntp/manifest.json": { all: { include: ["examples/manifest_net.json"], modules: ["sntp"] }, platforms: {} },
  "modules/network/socket/manifest.json": { platforms: { esp32: { modules: ["socket"] }, lin: { modules: ["socket"] } } },
  "modules/network/wifi/manifest.json": { platforms: { esp32: { modules: ["wifi"] }, lin: { modules: ["wifi"] } } },
  "modules/network/ethernet/manifest.json": {
    platforms: { esp32: { modules: ["ethernet"] }, lin: { include: ["modules/network/wifi/manifest.json"] } },
  },
  "modules/network/ethernet/manifest.json_w5500": {
    platforms: { esp32: { modules: ["ethernet"] }, lin: { include: ["modules/network/wifi/manifest.json"] } },
  },
  "modules/network/ethernet/manifest_net_ethernet.json": {
    all: { include: ["modules/network/ethernet/manifest.json", ...IO_NET_MANIFESTS] },
    platforms: { esp32: {}, lin: {} },
  },
  "modules/files/preference/manifest.json": { platforms: { esp32: { modules: ["preference"] }, lin: { modules: ["preference"] } } },
  "build/devices/esp32/modules/ota/manifest.json": {
    platforms: { esp32: { modules: ["ota"] }, "...": { error: "ESP32 OTA is not supported on this platform" } },
  },
  "modules/base/instrumentation/manifest.json": { all: { modules: ["instrumentation"] }, platforms: {} },
  "modules/io/manifest.json": {
    platforms: { esp32: { include: ["modules/io/manifests/esp32/manifest.json"] }, lin: { include: ["modules/io/manifests/lin/manifest.json"] } },
  },
  "modules/io/manifests/esp32/manifest.json": {
    all: {
      include: ["examples/manifest_base.json", "modules/io/digital/manifest.json", "modules/io/serial/manifest.json", "modules/io/spi/manifest.json"],
      modules: ["system"],
    },
    platforms: {
      esp32: { include: ["examples/manifest_net.json"], modules: ["embedded:io/socket/tcp", "embedded:io/socket/udp", "embedded:io/socket/listener"] },
    },
  },
  "modules/io/manifests/lin/manifest.json": {
    all: {
      include: ["examples/manifest_net.json", "modules/io/serial/manifest.json"],
      modules: ["system", "embedded:io/socket/tcp", "embedded:io/socket/listener", "embedded:io/socket/udp"],
    },
    platforms: {},
  },
  "modules/io/serial/manifest.json": { all: { modules: ["embedded:io/serial"] }, platforms: {} },
  // Neither is on lin: its sections there are empty.
  "modules/io/spi/manifest.json": { platforms: { lin: {}, "...": { modules: ["embedded:io/spi"] } } },
  "modules/io/digital/manifest.json": { platforms: { lin: {}, "...": { modules: ["embedded:io/digital"] } } },
  "examples/io/tcp/tlssocket/manifest.json": {
    all: { include: ["modules/io/manifest.json"], modules: ["embedded:io/socket/tcp/tls"] },
    platforms: {},
  },
};

/** `$(MODDABLE)/x`, `$(MODULES)/x`, `$(BUILD)/x`, `$(IO)/x` as a path under the SDK; undefined for anything else. */
export function sdkPath(path: string): string | undefined {
  const roots: Record<string, string> = { MODDABLE: "", MODULES: "modules/", BUILD: "build/", IO: "modules/io/" };
  const m = /^\$\((\w+)\)\/(.*)$/.exec(path);
  if (!m || !(m[1] in roots)) return undefined;
  return roots[m[1]] + m[2];
}
