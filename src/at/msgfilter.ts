// ESP-AT's system message filter (Basic_AT_Commands.rst): AT+SYSMSGFILTERCFG adds, deletes and
// lists filters, each a head and a tail regular expression (POSIX, as ESP-IDF's regcomp reads
// them), and AT+SYSMSGFILTER=1 applies them to what the console sends the host: each reply
// line, OK, ERROR and each unsolicited message. A message that matches a filter's head and tail
// loses both matches: the host gets only what lies between them.
//
// The table and its handlers are the module's own, not closures made at boot: preloaded, they
// stay in flash and cost the board's heap nothing.
import { decodeLatin1, encodeLatin1, REPLIED, type AtConsole, type CommandTable } from "./console";
import { isInt, type Param } from "./parser";

/** The doc's longest head or tail expression. */
const MAX_REGEXP = 64;
/** Filters kept at most (the doc gives no limit; each costs heap). */
export const MAX_FILTERS = 8;

/** regcomp's cflags, as the doc numbers them. */
const REG_EXTENDED = 1;
const REG_ICASE = 2;
const REG_NEWLINE = 4;

interface Filter {
  head: string;
  tail: string;
  cflags: number;
  headRe?: RegExp;
  tailRe?: RegExp;
}

/** POSIX named classes, as JavaScript ranges. */
const CLASSES: Record<string, string> = {
  alpha: "a-zA-Z", digit: "0-9", alnum: "a-zA-Z0-9", upper: "A-Z", lower: "a-z", space: " \\t\\r\\n\\v\\f",
  blank: " \\t", punct: "!-\\/:-@\\[-`{-~", xdigit: "0-9A-Fa-f", cntrl: "\\x00-\\x1f\\x7f", print: " -~", graph: "!-~",
};

/** A bracket expression from `[` at text[i]: its JavaScript form and the index after its `]`. */
function bracket(text: string, i: number): [string, number] {
  let out = "[";
  i++;
  if (text[i] === "^") {
    out += "^";
    i++;
  }
  let first = true;
  for (; i < text.length; i++) {
    const c = text[i];
    if (c === "]" && !first) return [`${out}]`, i + 1];
    first = false;
    const named = c === "[" && text[i + 1] === ":" ? /^\[:([a-z]+):\]/.exec(text.slice(i)) : null;
    if (named) {
      const range = CLASSES[named[1]];
      if (!range) throw new Error(`no class ${named[1]}`);
      out += range;
      i += named[0].length - 1;
    } else out += c === "\\" || c === "]" || c === "[" ? `\\${c}` : c; // POSIX: a backslash is itself in brackets
  }
  throw new Error("unterminated bracket");
}

/**
 * A POSIX regular expression as a JavaScript one. Basic (BRE): `\(` `\)` group, `\{m,n\}`
 * counts, and `+ ? | ( ) { }` are themselves; `^` anchors only first, `$` only last, `*` first
 * is itself. Extended (ERE) is JavaScript's syntax but for bracket expressions.
 */
export function posixToRegExp(source: string, cflags: number): RegExp {
  const extended = (cflags & REG_EXTENDED) !== 0;
  let out = "";
  /** At the start of the expression or of a group: `^` anchors, `*` is itself (BRE). */
  let start = true;
  for (let i = 0; i < source.length; ) {
    const c = source[i];
    const wasStart: boolean = start;
    start = false;
    if (c === "[") {
      const [js, next] = bracket(source, i);
      out += js;
      i = next;
      continue;
    }
    if (c === "\\") {
      const n = source[i + 1];
      if (n === undefined) throw new Error("trailing backslash");
      if (!extended && "(){}".includes(n)) {
        out += n;
        start = n === "(";
      } else if (/[1-9]/.test(n) || !/[0-9a-zA-Z]/.test(n)) out += `\\${n}`;
      else out += n; // `\w` and the like are not POSIX: a plain w
      i += 2;
      continue;
    }
    if (extended) {
      out += c;
      start = c === "(" || c === "|" || (c === "^" && wasStart);
    } else if (c === "^" && wasStart) {
      out += "^";
      start = true;
    } else if (c === "$") out += i === source.length - 1 || source.startsWith("\\)", i + 1) ? "$" : "\\$";
    else if (c === "*" && wasStart) out += "\\*";
    else out += "^+?|(){}".includes(c) ? `\\${c}` : c;
    i++;
  }
  // Without REG_NEWLINE a newline is an ordinary character: `.` matches it, `^` and `$` only the ends.
  const flags = (cflags & REG_ICASE ? "i" : "") + (cflags & REG_NEWLINE ? "m" : "s");
  return new RegExp(out, flags);
}

let filters: Filter[] = [];
let enabled = false;

/**
 * A message as the host gets it: unchanged, or without the head and tail of the first filter
 * that matches both; null when nothing is left of it.
 */
export function filterMessage(bytes: Uint8Array): Uint8Array | null {
  if (!enabled || !filters.length) return bytes;
  const text = decodeLatin1(bytes);
  for (const f of filters) {
    let from = 0;
    if (f.headRe) {
      const m = f.headRe.exec(text);
      if (!m) continue;
      from = m.index + m[0].length;
    }
    let to = text.length;
    if (f.tailRe) {
      const m = f.tailRe.exec(text.slice(from));
      if (!m) continue;
      to = from + m.index;
    }
    return to > from ? encodeLatin1(text.slice(from, to)) : null;
  }
  return bytes;
}

/** `AT+SYSMSGFILTERCFG=<1|2>,<head len>,<tail len>[,<cflags>]`: `OK`, `>`, the expressions, then OK or ERROR. */
async function addOrDelete(at: AtConsole, operator: number, headLength: Param, tailLength: Param, cflags: Param): Promise<typeof REPLIED | false> {
  if (!isInt(headLength, 0, MAX_REGEXP) || !isInt(tailLength, 0, MAX_REGEXP) || headLength + tailLength === 0) return false;
  if (cflags !== undefined && !isInt(cflags, 0, 7)) return false;
  const data = await at.payload(headLength + tailLength);
  if (!data) {
    at.error();
    return REPLIED;
  }
  const text = decodeLatin1(data);
  const filter: Filter = { head: text.slice(0, headLength), tail: text.slice(headLength), cflags: cflags ?? 0 };
  const index = filters.findIndex((f) => f.head === filter.head && f.tail === filter.tail && f.cflags === filter.cflags);
  let ok = false;
  if (operator === 2) {
    if (index >= 0) filters.splice(index, 1);
    ok = index >= 0;
  } else if (index < 0 && filters.length < MAX_FILTERS) {
    try {
      if (filter.head) filter.headRe = posixToRegExp(filter.head, filter.cflags);
      if (filter.tail) filter.tailRe = posixToRegExp(filter.tail, filter.cflags);
      filters.push(filter);
      ok = true;
    } catch {
      // not a regular expression: ERROR
    }
  }
  if (ok) at.ok();
  else at.error();
  return REPLIED;
}

const MSGFILTER_COMMANDS: CommandTable = {
  "+SYSMSGFILTER": {
    query: (at) => at.print(`+SYSMSGFILTER:${enabled ? 1 : 0}`),
    set: (_at, [on, ...rest]) => {
      if (rest.length || !isInt(on, 0, 1)) return false;
      enabled = on === 1;
    },
  },
  "+SYSMSGFILTERCFG": {
    query: (at) => filters.forEach((f, i) => at.print(`+SYSMSGFILTERCFG:${i},"${f.head}","${f.tail}"`)),
    set: (at, [operator, headLength, tailLength, cflags, ...rest]) => {
      if (rest.length) return false;
      if (operator === 0 && headLength === undefined) {
        filters = [];
        return;
      }
      if (operator !== 1 && operator !== 2) return false;
      return addOrDelete(at, operator, headLength, tailLength, cflags);
    },
  },
};

/** The commands; the console's output goes through filterMessage from now on. */
export function msgFilterCommands(at: AtConsole): CommandTable {
  filters = [];
  enabled = false;
  at.outputFilter = filterMessage;
  return MSGFILTER_COMMANDS;
}
