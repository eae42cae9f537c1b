// candump on the board: every frame can0 receives, one line each in can-utils' candump format,
// with candump's filters in config.filters (`123:7FF,18FF0000:1FFF0000`; `~` for `:` inverts one,
// `#<mask>` picks the error classes). Error frames show as candump shows them.
import config from "mc/config";
import * as S from "xsock/socket";

/** candump's `<id>:<mask>`, `<id>~<mask>` and `#<error mask>` filters. */
function parseFilters(text: string): { filters: S.CanFilter[]; errMask: number } {
  const filters: S.CanFilter[] = [];
  let errMask = S.CAN_ERR_BUSOFF | S.CAN_ERR_CRTL | S.CAN_ERR_RESTARTED;
  for (const part of text.split(",").filter(Boolean)) {
    const m = /^([0-9a-fA-F]{1,8})([:~])([0-9a-fA-F]{1,8})$/.exec(part) ?? /^#([0-9a-fA-F]{1,8})$/.exec(part);
    if (!m) throw new Error(`bad filter "${part}": <id>:<mask>, <id>~<mask> or #<error mask>`);
    if (m.length === 2) {
      errMask = Number.parseInt(m[1], 16);
      continue;
    }
    // As candump.c: the mask as given (less CAN_ERR_FLAG); an 8-digit id is an extended one.
    let can_id = Number.parseInt(m[1], 16) | (m[1].length === 8 ? S.CAN_EFF_FLAG : 0);
    if (m[2] === "~") can_id |= S.CAN_INV_FILTER;
    filters.push({ can_id: can_id >>> 0, can_mask: (Number.parseInt(m[3], 16) & ~S.CAN_ERR_FLAG) >>> 0 });
  }
  return { filters: filters.length ? filters : [{ can_id: 0, can_mask: 0 }], errMask };
}

const hex2 = (b: number) => b.toString(16).toUpperCase().padStart(2, "0");

/** A line as candump prints it: `  can0  123   [3]  01 02 03`. */
function candumpLine(ifname: string, f: S.CanFrame): string {
  const extended = (f.can_id & S.CAN_EFF_FLAG) !== 0;
  const error = (f.can_id & S.CAN_ERR_FLAG) !== 0;
  // candump shows an error frame's id with CAN_ERR_FLAG, as 8 digits.
  const bits = (f.can_id & (error ? S.CAN_ERR_MASK | S.CAN_ERR_FLAG : extended ? S.CAN_EFF_MASK : S.CAN_SFF_MASK)) >>> 0;
  const id = bits.toString(16).toUpperCase().padStart(extended || error ? 8 : 3, "0");
  const body = f.can_id & S.CAN_RTR_FLAG ? "remote request" : Array.from(f.data, hex2).join(" ");
  return `  ${ifname}  ${id}   [${f.len}]  ${body}`.trimEnd();
}

async function main(): Promise<void> {
  const { filters, errMask } = parseFilters(String((config as { filters?: string }).filters ?? ""));
  const s = S.socket(S.AF_CAN, S.SOCK_RAW, S.CAN_RAW);
  s.bind("can0");
  s.setsockopt(S.SOL_CAN_RAW, S.CAN_RAW_FILTER, filters);
  s.setsockopt(S.SOL_CAN_RAW, S.CAN_RAW_ERR_FILTER, errMask);
  trace(`candump: listening on can0\n`);
  for (;;) trace(`${candumpLine("can0", await s.recv_frame())}\n`);
}

main().catch((e: Error) => trace(`candump: ${e.message}\n`));
