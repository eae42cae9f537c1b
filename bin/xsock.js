#!/usr/bin/env node
// The `xsock` command: its sources are TypeScript, run through tsx.
import { register } from "tsx/esm/api";

register();
await import("../host-sim/cli.ts");
