// Loads firmware modules (src/, drivers/) into Node for unit tests: their `xsock/...` imports
// resolve as tsconfig.firmware.json maps them, and platform modules to stand-ins the test gives.
import { build } from "esbuild";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { ROOT } from "./sim.ts";

const paths = (JSON.parse(readFileSync(resolve(ROOT, "tsconfig.firmware.json"), "utf8")) as { compilerOptions: { paths: Record<string, string[]> } }).compilerOptions.paths;

/**
 * Bundles `source` (ES module text that imports firmware modules by path or specifier) and
 * imports it. `platform` maps specifiers to module text standing in for them.
 */
export async function importFirmware<T>(source: string, platform: Record<string, string> = {}): Promise<T> {
  const result = await build({
    stdin: { contents: source, resolveDir: ROOT, loader: "ts", sourcefile: "firmware-under-test.ts" },
    bundle: true,
    write: false,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    logLevel: "silent",
    plugins: [
      {
        name: "firmware",
        setup(b) {
          b.onResolve({ filter: /.*/ }, (args) => {
            if (args.path in platform) return { path: args.path, namespace: "stand-in" };
            const mapped = paths[args.path]?.[0];
            if (mapped) return { path: resolve(ROOT, mapped.endsWith(".ts") ? mapped : `${mapped}.ts`) };
            return undefined;
          });
          b.onLoad({ filter: /.*/, namespace: "stand-in" }, (args) => ({ contents: platform[args.path], loader: "js" }));
        },
      },
    ],
  });
  const code = result.outputFiles[0].text;
  return (await import(`data:text/javascript;base64,${Buffer.from(code).toString("base64")}`)) as T;
}
