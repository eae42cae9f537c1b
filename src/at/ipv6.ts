// ESP-AT's AT+CIPV6: IPv6 on or off for the console. It must be on before TCPv6, UDPv6 and
// SSLv6 links, and for CIFSR's and CIPSTA?'s IPv6 lines. Saved when AT+SYSSTORE=1.
import type { CommandTable } from "./console";
import { isInt } from "./parser";
import type { Settings } from "./settings";

/** Whether IPv6 is on: CIPSTART, CIFSR and CIPSTA? ask it. */
export interface Ipv6Switch {
  ipv6: boolean;
}

/** `state` starts as flash has it (0, off, by default). */
export function ipv6Commands(state: Ipv6Switch, settings: Settings): CommandTable {
  state.ipv6 = settings.get<number>("ipv6", 0) === 1;
  return {
    "+CIPV6": {
      query: (at) => at.print(`+CIPV6:${state.ipv6 ? 1 : 0}`),
      set: (_at, [enable, ...rest]) => {
        if (rest.length || !isInt(enable, 0, 1)) return false;
        state.ipv6 = enable === 1;
        settings.keep("ipv6", enable);
      },
    },
  };
}

/** A link type as CIPSTART takes it, exactly (ESP-AT compares with strcmp): the kind, and whether it is IPv6. */
export function parseLinkType(type: unknown): { kind: "TCP" | "UDP" | "SSL"; v6: boolean } | undefined {
  if (typeof type !== "string") return undefined;
  const v6 = type.endsWith("v6");
  const kind = v6 ? type.slice(0, -2) : type;
  return kind === "TCP" || kind === "UDP" || kind === "SSL" ? { kind, v6 } : undefined;
}
