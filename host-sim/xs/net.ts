// Moddable's `net` module: interface facts and DNS resolve.
import { host, newId, off, on, tell } from "./bridge";

class Net {
  static get(what: string, iface?: string): string | number | string[] | undefined {
    return host<string | number | string[] | undefined>("net.get", what, iface ?? null) ?? undefined;
  }
  static resolve(name: string, callback: (name: string, address?: string) => void): void {
    const id = newId();
    on("resolve", id, (address) => {
      off("resolve", id);
      callback(name, (address as string | null) ?? undefined);
    });
    tell("net.resolve", id, name);
  }
}

export default Net;
