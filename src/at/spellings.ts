// The AT 1.x spellings: `<name>_CUR` runs <name> without saving to flash, `<name>_DEF` saving,
// and their replies carry the spelling they were asked in (`+CWMODE_CUR:1`). Every spelling
// shares one handler, which finds its command from the name it was asked by.
import type { AtConsole, CommandSpec, CommandTable, Handler } from "./console";
import type { CommandKind } from "./parser";
import type { Settings } from "./settings";

const SUFFIXES = Object.freeze(["_CUR", "_DEF"]);
const KINDS: readonly CommandKind[] = Object.freeze(["execute", "query", "test", "set"]);

export function legacySpellings(table: CommandTable, settings: Settings, names: string[]): CommandTable {
  const spelled: Handler = (at, params, { name: alias, kind }) => {
    const name = alias.slice(0, -4);
    const renamed = Object.create(at) as AtConsole;
    renamed.print = (line) => at.print(line.startsWith(`${name}:`) ? `${alias}${line.slice(name.length)}` : line);
    return settings.storing(alias.endsWith("_DEF"), () => table[name][kind]!(renamed, params, { name, kind, params }));
  };
  const out: CommandTable = {};
  for (const name of names) {
    const spec: CommandSpec = { textFields: table[name].textFields };
    for (const kind of KINDS) if (table[name][kind]) spec[kind] = spelled;
    for (const suffix of SUFFIXES) out[`${name}${suffix}`] = spec;
  }
  return out;
}
