#!/usr/bin/env node
// The `xsock` command. The published package runs its compiled code (dist/, built by
// `npm pack`); a checkout runs the TypeScript sources through tsx, so an edit needs no build.
import { existsSync } from "node:fs";

if (existsSync(new URL("../tsconfig.json", import.meta.url))) {
  const { register } = await import("tsx/esm/api");
  register();
  await import("../host-sim/cli.ts");
} else {
  await import("../dist/host-sim/cli.js");
}
