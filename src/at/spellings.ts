// The AT 1.x spellings: `<name>_CUR` runs <name> without saving to flash, `<name>_DEF` saving,
// and their replies carry the spelling they were asked in (`+CWMODE_CUR:1`).
import type { AtConsole, CommandSpec, CommandTable } from "./console";
import type { CommandKind } from "./parser";
import type { Settings } from "./settings";

export function legacySpellings(table: CommandTable, settings: Settings, names: string[]): CommandTable {
  const out: CommandTable = {};
  for (const name of names) {
    for (const [suffix, save] of [["_CUR", false], ["_DEF", true]] as const) {
      const alias = `${name}${suffix}`;
      const spec: CommandSpec = {};
      for (const [kind, handler] of Object.entries(table[name]) as [CommandKind, NonNullable<CommandSpec[CommandKind]>][]) {
        spec[kind] = (at, params) => {
          const renamed = Object.create(at) as AtConsole;
          renamed.print = (line) => at.print(line.startsWith(`${name}:`) ? `${alias}${line.slice(name.length)}` : line);
          return settings.storing(save, () => handler(renamed, params));
        };
      }
      out[alias] = spec;
    }
  }
  return out;
}
