// What Moddable's XS linker does at the end of the preload phase (xs/tools/xslSlot.c,
// documentation/xs/preload.md), so the simulator refuses at run time what the board refuses:
// - Map, Set, WeakMap and WeakSet instances made while preloading cannot be aliased in RAM, so
//   they are frozen, and changing one throws XS's "read-only" TypeError;
// - the built-ins' constructors and prototypes, and the functions the preloaded modules export
//   (classes too), are frozen.

type Collection = Map<unknown, unknown> | Set<unknown> | WeakMap<object, unknown> | WeakSet<object>;

const MUTATORS: Record<string, string[]> = { Map: ["set", "delete", "clear"], Set: ["add", "delete", "clear"], WeakMap: ["set", "delete"], WeakSet: ["add", "delete"] };

/** Starts recording what preloading makes; the function returned seals it, given the preloaded modules' namespaces. */
export function preloading(): (namespaces: object[]) => void {
  const global = globalThis as unknown as Record<string, unknown>;
  const made: [string, Collection][] = [];
  const originals: Record<string, new (...args: unknown[]) => Collection> = {};
  let recording = true;
  for (const name of Object.keys(MUTATORS)) {
    const Original = global[name] as new (...args: unknown[]) => Collection;
    originals[name] = Original;
    global[name] = new Proxy(Original, {
      construct(target, args, newTarget) {
        const instance = Reflect.construct(target, args, newTarget) as Collection;
        if (recording) made.push([name, instance]);
        return instance;
      },
    });
  }
  return (namespaces) => {
    recording = false;
    Object.assign(global, originals);
    for (const [name, instance] of made) {
      for (const method of MUTATORS[name]) {
        Object.defineProperty(instance, method, {
          value() {
            throw new TypeError(`this: read-only ${name} instance`);
          },
        });
      }
      Object.freeze(instance);
    }
    for (const name of Object.getOwnPropertyNames(globalThis)) {
      const value = global[name];
      if (typeof value === "function") {
        Object.freeze(value);
        if (typeof value.prototype === "object" && value.prototype) Object.freeze(value.prototype);
      } else if (name === "Math" || name === "JSON" || name === "Reflect" || name === "Atomics") Object.freeze(value);
    }
    for (const ns of namespaces) for (const value of Object.values(ns)) if (typeof value === "function") Object.freeze(value);
  };
}
