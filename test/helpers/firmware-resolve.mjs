// Module resolution hooks (node:module register): firmware modules import each other by their
// Moddable specifiers (xsock/can-frame); under Node, tsconfig.firmware.json's paths find them.
import { readFileSync } from "node:fs";
import { URL } from "node:url";

const root = new URL("../../", import.meta.url);
const { compilerOptions } = JSON.parse(readFileSync(new URL("tsconfig.firmware.json", root), "utf8"));
const paths = compilerOptions.paths;

export async function resolve(specifier, context, next) {
  const target = paths[specifier];
  return next(target ? new URL(target[0], root).href : specifier, context);
}
