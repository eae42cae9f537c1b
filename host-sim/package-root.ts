// Where xsock's files are: the checkout's root, or the installed package's. The host code runs
// from there as TypeScript, or compiled from dist/; the firmware, the boards, the drivers and the
// XS-side proxies are always read as sources from the root.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

function findRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json"))) return dir;
    if (dirname(dir) === dir) throw new Error(`xsock's package.json is not above ${from}`);
  }
}

export const PACKAGE_ROOT = findRoot(dirname(fileURLToPath(import.meta.url)));

/** A file or folder of the package, by its path from the root. */
export const packagePath = (...parts: string[]): string => join(PACKAGE_ROOT, ...parts);

/** A checkout has the test suites and the TypeScript config; the published package has neither. */
export const IS_CHECKOUT = existsSync(packagePath("tsconfig.json"));
