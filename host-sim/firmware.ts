// Builds a Moddable app into one script for XS: reads its manifest.json as mcconfig does,
// maps Moddable's platform modules to the simulator's proxies, and bundles with esbuild.
import { build, type Plugin } from "esbuild";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { SourceMap, type SourceMapPayload } from "node:module";
import { basename, dirname, extname, join, posix, relative, resolve } from "node:path";
import { BOARDS_DIR, type Board } from "./board.ts";
import { packagePath } from "./package-root.ts";
import { SDK_MANIFESTS, sdkPath, type SdkSection } from "./sdk/manifests.ts";

const XS_DIR = packagePath("host-sim", "xs") + "/";
const BRIDGE = join(XS_DIR, "bridge.ts");
/** The bridge runs as its own script, before the firmware; the proxies find it under this key. */
const BRIDGE_KEY = 'Symbol.for("xsock.bridge")';

/**
 * The Moddable module specifiers the simulator provides, and the proxy behind each. The SDK's
 * are importable only when the app's manifests include the SDK manifest that brings them
 * (sdk/manifests.ts); xsock's own native modules, when its manifests map them.
 */
export const PLATFORM_MODULES: Record<string, string> = {
  timer: "timer.ts",
  time: "time.ts",
  sntp: "sntp.ts",
  "embedded:io/serial": "serial.ts",
  "embedded:io/spi": "spi.ts",
  "embedded:io/digital": "digital.ts",
  "embedded:io/socket/tcp": "tcp.ts",
  "embedded:io/socket/tcp/tls": "tls.ts",
  "embedded:io/socket/udp": "udp.ts",
  "embedded:io/socket/listener": "listener.ts",
  wifi: "wifi.ts",
  ethernet: "ethernet.ts",
  net: "net.ts",
  socket: "socket.ts",
  system: "system.ts",
  preference: "preference.ts",
  instrumentation: "instrumentation.ts",
  "xsock/can/twai-native": "twai.ts",
  "xsock/ipconfig-native": "ipconfig.ts",
  "xsock/ping-native": "ping.ts",
  "xsock/deepsleep-native": "deepsleep.ts",
  "xsock/wifi/softap-stations": "softap-stations.ts",
  ota: "ota.ts",
};

export interface Manifest {
  /** Module specifier to file (without extension), as mcconfig would name them. */
  modules: Map<string, string>;
  config: Record<string, unknown>;
  /** Modules preloaded at build time: on the board they live in flash, not in the heap. */
  preload: string[];
  /** The SDK's platform modules the manifests bring for the board, and the SDK manifest that brought each. */
  sdkModules: Map<string, string>;
  /** The manifests and folders read, and the paths looked for: a change to one may change the build. */
  read: string[];
}

const SOURCE_EXTENSIONS = [".ts", ".js"];

function readJson(path: string): Record<string, unknown> {
  // Moddable's manifests allow trailing commas.
  const text = readFileSync(path, "utf8").replace(/,(\s*[}\]])/g, "$1");
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`bad manifest ${path}: ${(e as Error).message}`, { cause: e });
  }
}

function stripExtension(path: string): string {
  return SOURCE_EXTENSIONS.includes(extname(path)) ? path.slice(0, -extname(path).length) : path;
}

/** Adds one `modules` entry: `"name": "./path"`, `"dir/*": "./src/dir/*"` or `"*": [...]`. */
function addModules(manifest: Manifest, key: string, paths: string | string[], base: string): void {
  const into = manifest.modules;
  for (const path of Array.isArray(paths) ? paths : [paths]) {
    if (path.startsWith("$(")) continue; // the SDK's own modules: the simulator provides them
    const full = resolve(base, path);
    if (path.endsWith("/*")) {
      const dir = full.slice(0, -2);
      manifest.read.push(dir);
      const prefix = key === "*" ? "" : key.slice(0, -1);
      for (const file of readdirSync(dir)) {
        if (SOURCE_EXTENSIONS.includes(extname(file)) && !file.endsWith(".d.ts"))
          into.set(prefix + stripExtension(file), join(dir, stripExtension(file)));
      }
    } else {
      into.set(key === "*" ? basename(full) : key, full);
    }
  }
}

/**
 * The one platform section that applies, as mcconfig picks it: the board's own (`esp32/nodemcu`),
 * else a wildcard or its family's (`esp32/*`, `esp32`), else `...`.
 */
export function matchPlatform<T>(platforms: Record<string, T>, target: string): T | undefined {
  const parts = target.split("/");
  for (; parts.length; parts.pop()) {
    const partial = parts.join("/");
    for (const [name, section] of Object.entries(platforms)) {
      if (name.endsWith("/*") ? partial.startsWith(name.slice(0, -1)) : name.startsWith("*/") ? partial.endsWith(name.slice(1)) : partial === name) return section;
    }
  }
  return platforms["..."];
}

/** Reads a manifest with its local includes and the platform sections that apply to the board, and the SDK manifests it reaches. */
export function readManifest(appDir: string, board: Board): Manifest {
  const manifest: Manifest = { modules: new Map(), config: {}, preload: [], sdkModules: new Map(), read: [] };
  const seen = new Set<string>();
  const visit = (path: string, from: string) => {
    if (seen.has(path)) return;
    seen.add(path);
    manifest.read.push(path);
    if (!existsSync(path)) throw new ManifestError(`${from} includes ${path}, which does not exist`);
    const json = readJson(path);
    const base = dirname(path);
    const apply = (section: Record<string, unknown>) => {
      const includes = section.include as string | string[] | undefined;
      for (const inc of [includes ?? []].flat()) {
        const sdk = sdkPath(inc);
        if (sdk !== undefined) visitSdk(sdk);
        else if (!inc.startsWith("$(")) visit(resolve(base, inc), path);
      }
      const modules = (section.modules ?? {}) as Record<string, string | string[]>;
      for (const [key, paths] of Object.entries(modules)) addModules(manifest, key, paths, base);
      Object.assign(manifest.config, section.config ?? {});
      manifest.preload.push(...[(section.preload as string | string[] | undefined) ?? []].flat());
    };
    apply(json);
    const platform = matchPlatform((json.platforms ?? {}) as Record<string, Record<string, unknown>>, board.id);
    if (platform) apply(platform);
  };
  // An SDK manifest: what the table says it brings for the board's platform.
  const visitSdk = (path: string) => {
    if (seen.has(`$(MODDABLE)/${path}`)) return;
    seen.add(`$(MODDABLE)/${path}`);
    const known = SDK_MANIFESTS[path];
    if (!known) return;
    for (const section of [known.all, matchPlatform(known.platforms, board.id)] as (SdkSection | undefined)[]) {
      if (section?.error) throw new ManifestError(`$(MODDABLE)/${path}: ${section.error}`);
      for (const inc of section?.include ?? []) visitSdk(inc);
      for (const m of section?.modules ?? []) if (!manifest.sdkModules.has(m)) manifest.sdkModules.set(m, `$(MODDABLE)/${path}`);
      const target = join(BOARDS_DIR, board.id, "manifest.json");
      if (section?.target) manifest.read.push(target);
      if (section?.target && existsSync(target)) visit(target, `$(MODDABLE)/${path}`);
    }
  };
  const path = join(appDir, "manifest.json");
  if (!existsSync(path)) throw new ManifestError(`no manifest.json in ${appDir}`);
  visit(resolve(path), "the app");
  return manifest;
}

/** A manifest is missing, or one it includes. */
export class ManifestError extends Error {}

const SDK_SPECIFIERS = new Set(
  Object.values(SDK_MANIFESTS).flatMap((m) => [m.all, ...Object.values(m.platforms)].flatMap((s) => s?.modules ?? [])),
);

/** Whether the app's build has a platform module: the SDK's through an SDK manifest, xsock's native ones through its own. */
function available(manifest: Manifest, specifier: string): boolean {
  return SDK_SPECIFIERS.has(specifier) ? manifest.sdkModules.has(specifier) : manifest.modules.has(specifier);
}

/** The manifests an app usually includes, in the order to suggest them. */
const APP_MANIFESTS = ["examples/manifest_base.json", "examples/manifest_net.json", "modules/io/manifest.json"];

/** The SDK manifest to include for a platform module on the board: a usual one if it brings it, else the one that maps it. */
function sdkManifestFor(specifier: string, board: Board): string | undefined {
  const brings = (path: string, seen = new Set<string>()): boolean => {
    if (seen.has(path) || !SDK_MANIFESTS[path]) return false;
    seen.add(path);
    const known = SDK_MANIFESTS[path];
    const sections = [known.all, matchPlatform(known.platforms, board.id)];
    return sections.some((s) => s?.modules?.includes(specifier) || s?.include?.some((inc) => brings(inc, seen)));
  };
  const path = [...APP_MANIFESTS, ...Object.keys(SDK_MANIFESTS)].find((p) => brings(p));
  return path && `$(MODDABLE)/${path}`;
}

/** The module's file; the paths looked for go to `read` (one added later may take its place). */
function fileOf(stem: string, read: string[]): string | undefined {
  for (const file of SOURCE_EXTENSIONS.map((e) => stem + e)) {
    read.push(file);
    if (existsSync(file)) return file;
  }
  return undefined;
}

/** The config the firmware reads from `mc/config`: the manifest's, plus the board's. */
export function firmwareConfig(manifest: Pick<Manifest, "config">, board: Board): Record<string, unknown> {
  return {
    ...manifest.config,
    board: { id: board.id, name: board.name, chip: board.chip },
    console: board.console,
    can: board.can,
    limits: board.limits,
  };
}

/**
 * Resolves imports the way the app builds on the board: platform modules to the proxies,
 * everything else through the manifest. An import mcconfig could not resolve fails here too.
 */
function moddableResolver(manifest: Manifest, board: Board, config: Record<string, unknown>): Plugin {
  const specifierOf = new Map([...manifest.modules].map(([spec, stem]) => [resolve(stem), spec]));
  return {
    name: "moddable",
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => {
        if (args.path === "./bridge" || args.path === BRIDGE) return { path: "bridge", namespace: "xsock-bridge" };
        if (args.kind === "entry-point" || args.path.startsWith(XS_DIR)) return undefined;
        if (args.importer.startsWith(XS_DIR)) return undefined;
        if (args.path === "mc/config") return { path: "mc/config", namespace: "moddable-config" };
        const proxy = PLATFORM_MODULES[args.path];
        if (proxy && available(manifest, args.path)) return { path: join(XS_DIR, proxy) };
        if (proxy) {
          // XS's own words when an import is not in the build, then where the module lives.
          const where = sdkManifestFor(args.path, board);
          const hint = where ? `: include ${where} in the app's manifest` : `: Moddable has no such module on ${board.id}`;
          return { errors: [{ text: `module "${args.path}" not found${hint}` }] };
        }
        let specifier = args.path;
        if (args.path.startsWith(".")) {
          const importer = specifierOf.get(stripExtension(args.importer));
          if (importer === undefined) return { errors: [{ text: `${args.importer} is not a module in the manifest` }] };
          specifier = posix.join(posix.dirname(importer), args.path);
        }
        const stem = manifest.modules.get(specifier);
        const file = stem && fileOf(stem, manifest.read);
        if (!file) {
          return {
            errors: [{ text: `module "${specifier}" is neither in the app's manifest.json nor a platform module the simulator provides` }],
          };
        }
        return { path: file };
      });
      b.onLoad({ filter: /.*/, namespace: "xsock-bridge" }, () => ({
        contents: `module.exports = globalThis[${BRIDGE_KEY}];`,
        loader: "js",
      }));
      b.onLoad({ filter: /.*/, namespace: "moddable-config" }, () => ({
        contents: `export default ${JSON.stringify(config)};`,
        loader: "js",
      }));
    },
  };
}

/** A script for XS, and where its lines came from. */
export interface Script {
  code: string;
  /** Maps a line of `code` (1-based) to its source, `file:line`. */
  source(line: number): string | undefined;
}

export interface Firmware {
  /** The app's version: its config's `version` (what AT+GMR reports), "" without one. */
  version: string;
  /** The simulator's side of the platform (bridge.ts and its wire codec): XS runs it first. */
  bridge: Script;
  /** The app, with the platform proxies: XS runs it second. */
  app: Script;
}

/** Bundles one entry (given as source text) into a script that XS runs at global scope; adds the files it read to `read`. */
async function bundle(entry: string, resolveDir: string, plugins: Plugin[], read: string[]): Promise<Script> {
  const result = await build({
    stdin: { contents: entry, resolveDir, sourcefile: "xsock-entry.js", loader: "js" },
    bundle: true,
    write: false,
    format: "iife",
    // Modules are strict code, on the board as everywhere: a bundle of them must be too.
    banner: { js: '"use strict";' },
    platform: "neutral",
    mainFields: ["module", "main"],
    target: "es2022",
    sourcemap: "external",
    outdir: resolveDir,
    logLevel: "silent",
    metafile: true,
    plugins,
  });
  // The plugins' namespaces (`xsock-bridge:bridge`) and the entry are no files.
  for (const input of Object.keys(result.metafile!.inputs)) if (!/^[\w-]+:|^<stdin>$/.test(input)) read.push(resolve(input));
  const map = result.outputFiles!.find((f) => f.path.endsWith(".map"))!;
  const code = result.outputFiles!.find((f) => !f.path.endsWith(".map"))!;
  // Parsed only when a line is looked up (an exception): it takes a tenth of a boot.
  let sourceMap: SourceMap | undefined;
  return {
    code: code.text,
    source(line) {
      sourceMap ??= new SourceMap(JSON.parse(map.text) as SourceMapPayload);
      const found = sourceMap.findEntry(line - 1, 0) as { originalSource?: string; originalLine?: number };
      if (!found.originalSource) return undefined;
      return `${relative(process.cwd(), resolve(resolveDir, found.originalSource))}:${(found.originalLine ?? 0) + 1}`;
    },
  };
}

/** A firmware built, and what its build read, each file's modification time and size then. */
interface Built {
  firmware: Firmware;
  read: string[];
  stamp: string;
}

/** Builds in this process, by app, board and config: boards of the same firmware share one, until a file it read changes. */
const builds = new Map<string, Promise<Built>>();

function stamp(paths: string[]): string {
  return paths
    .map((p) => {
      const stat = statSync(p, { throwIfNoEntry: false });
      return stat ? `${stat.mtimeMs}:${stat.size}` : "-";
    })
    .join(",");
}

/** Bundles the app, and the bridge it talks to the simulator through; the same firmware again, while none of its files has changed. */
export async function buildFirmware(appDir: string, board: Board, overrides: Record<string, unknown> = {}): Promise<Firmware> {
  const key = JSON.stringify([resolve(appDir), board, overrides]);
  const cached = builds.get(key);
  if (cached) {
    const built = await cached.catch(() => undefined);
    if (built && stamp(built.read) === built.stamp) return built.firmware;
    if (builds.get(key) === cached) builds.delete(key);
    return buildFirmware(appDir, board, overrides);
  }
  const building = bundleFirmware(appDir, board, overrides);
  builds.set(key, building);
  building.catch(() => builds.get(key) === building && builds.delete(key));
  return (await building).firmware;
}

async function bundleFirmware(appDir: string, board: Board, overrides: Record<string, unknown>): Promise<Built> {
  const manifest = readManifest(appDir, board);
  Object.assign(manifest.config, overrides);
  if (!manifest.modules.has("main")) throw new Error(`the manifest in ${appDir} has no "main" module`);
  const bridge = await bundle(
    `import * as bridge from ${JSON.stringify(BRIDGE)};\nObject.defineProperty(globalThis, ${BRIDGE_KEY}, { value: bridge });`,
    XS_DIR,
    [],
    manifest.read,
  );
  // The simulator sends "preload" (it then counts the heap from there), then "boot".
  // Moddable preloads its own platform modules too.
  const platform = Object.keys(PLATFORM_MODULES).filter((m) => available(manifest, m));
  const preloads = [...platform, "mc/config", ...manifest.preload.filter((m) => manifest.modules.has(m) && m !== "main" && !(m in PLATFORM_MODULES))];
  const config = firmwareConfig(manifest, board);
  const app = await bundle(
    [
      `import { booting, fatal, on, preloading } from "./bridge";`,
      `const failed = (e) => fatal("uncaught exception", e);`,
      `on("preload", 0, () => { const seal = preloading(); void Promise.all([${preloads.map((m) => `import(${JSON.stringify(m)})`).join(", ")}]).then(seal).catch(failed); });`,
      `on("boot", 0, () => { booting(); void import("main").then((app) => { if (typeof app.default === "function") app.default(); }).catch(failed); });`,
    ].join("\n"),
    appDir,
    [moddableResolver(manifest, board, config)],
    manifest.read,
  );
  const firmware = { version: config.version === undefined ? "" : String(config.version), bridge, app };
  return { firmware, read: manifest.read, stamp: stamp(manifest.read) };
}
