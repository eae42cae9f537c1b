// Moddable's `instrumentation` module (modules/base/instrumentation): XS's figures as the
// simulator measures them.
import { host } from "./bridge";

let names: string[] | undefined;
const list = () => (names ??= host<string[]>("instrumentation.names"));

class Instrumentation {
  static get(what: number): number | undefined {
    const name = Instrumentation.name(what);
    return name === undefined ? undefined : (host<number | null>("instrumentation.get", name) ?? undefined);
  }
  static map(name: string): number | undefined {
    const i = list().indexOf(name);
    return i < 0 ? undefined : i + 1;
  }
  static name(what: number): string | undefined {
    return list()[what - 1];
  }
}

export default Instrumentation;
