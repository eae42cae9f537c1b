// `import { startSim } from "xsock/sim"`: the simulator's sources are TypeScript, run through tsx.
import { register } from "tsx/esm/api";

register();
export const { startSim } = await import("./api.ts");
