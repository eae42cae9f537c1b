// Moddable's `system` module (host-sim/sdk/shapes.ts: modules/io/system/system.js on esp32,
// modules/io/manifests/lin/system.js on lin): it has no exports and sets the global System, which
// @moddable/typings declares. `import "system"` loads it; a default import is an error.
declare module "system" {}
