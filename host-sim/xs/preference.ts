// Moddable's `preference` module, on the simulator's flash (it outlives a restart).
import { host, toArrayBuffer } from "./bridge";

type Value = string | number | boolean | ArrayBuffer;

class Preference {
  static set(domain: string, key: string, value: Value): void {
    host("preference.set", domain, key, value instanceof ArrayBuffer ? new Uint8Array(value) : value);
  }
  static get(domain: string, key: string): Value | undefined {
    const value = host<Value | Uint8Array | null>("preference.get", domain, key);
    if (value === null) return undefined;
    return value instanceof Uint8Array ? toArrayBuffer(value) : value;
  }
  static delete(domain: string, key: string): void {
    host("preference.delete", domain, key);
  }
  static keys(domain: string): string[] {
    return host<string[]>("preference.keys", domain);
  }
}

export default Preference;
