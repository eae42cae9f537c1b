// The simulator's wire between Node and XS: JSON for structure, raw bytes for byte arrays.
// A message is [JSON length, u32 LE][JSON, UTF-8][bytes...]. Each Uint8Array in the value
// travels in the bytes part and stands in the JSON as null; when there are any, the length's
// top bit is set and the JSON is [value, refs], each ref [offset, length, ...path to it].
// Both engines do JSON and UTF-8 natively; the refs spare XS a reviver (or replacer) call per
// value.
// XS counts array destructuring, for-of and spread as iterator calls, several times the cost of
// an indexed loop: this code, which runs in every delivery, uses none.

const WITH_REFS = 0x80000000;
const encoder = new (globalThis as unknown as { TextEncoder: new () => { encode(text: string): Uint8Array } }).TextEncoder();
const decoder = new (globalThis as unknown as { TextDecoder: new () => { decode(bytes: Uint8Array): string } }).TextDecoder();

type Ref = (string | number)[]; // [offset, length, ...path]

/** Moddable's ArrayBuffer.prototype.concat: in XS, not in Node. */
const concat = (ArrayBuffer.prototype as unknown as { concat?: (this: ArrayBuffer, ...others: ArrayBuffer[]) => ArrayBuffer }).concat;

/** The bytes as an ArrayBuffer: their own if they fill it, else a copy (ArrayBuffer's slice is native in XS). */
function wholeBuffer(bytes: Uint8Array): ArrayBuffer {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) return bytes.buffer as ArrayBuffer;
  return (bytes.buffer as ArrayBuffer).slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
}

/**
 * A copy of the arrays and plain objects on the way to each Uint8Array, which becomes null;
 * `path` is the way to `value`, a stack that each level pushes to and pops.
 */
function strip(value: object, path: (string | number)[], parts: Uint8Array[], refs: Ref[]): unknown {
  if (value instanceof Uint8Array) {
    parts.push(value);
    refs.push((<Ref>[0, value.length]).concat(path)); // its offset is set once all are found
    return null;
  }
  const array = Array.isArray(value);
  if (!array) {
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null) return value; // a Date, or any with a toJSON
  }
  const keys: string[] | undefined = array ? undefined : Object.keys(value);
  const count = keys ? keys.length : (value as unknown[]).length;
  let copy: Record<string | number, unknown> | undefined;
  for (let i = 0; i < count; i++) {
    const key = keys ? keys[i] : i;
    const v = (value as Record<string | number, unknown>)[key];
    if (v === null || typeof v !== "object") continue;
    path.push(key);
    const out = strip(v, path, parts, refs);
    path.pop();
    if (out !== v) (copy ??= array ? ((value as unknown[]).slice() as unknown as Record<string | number, unknown>) : { ...(value as Record<string, unknown>) })[key] = out;
  }
  return copy ?? value;
}

export function encode(value: unknown): Uint8Array {
  const parts: Uint8Array[] = [];
  const refs: Ref[] = [];
  const stripped = value !== null && typeof value === "object" ? strip(value, [], parts, refs) : value;
  // The parts go in the order they were found.
  let offset = 0;
  for (let r = 0; r < refs.length; r++) {
    refs[r][0] = offset;
    offset += refs[r][1] as number;
  }
  const head = encoder.encode(JSON.stringify(refs.length ? [stripped, refs] : stripped) ?? "null");
  const header = refs.length ? (head.length | WITH_REFS) >>> 0 : head.length;
  if (concat) {
    // XS: its ArrayBuffer concat copies natively; TypedArray's set costs two computrons a byte.
    const length = new ArrayBuffer(4);
    new DataView(length).setUint32(0, header, true);
    const buffers: ArrayBuffer[] = [wholeBuffer(head)];
    for (let p = 0; p < parts.length; p++) buffers.push(wholeBuffer(parts[p]));
    return new Uint8Array(concat.apply(length, buffers));
  }
  const out = new Uint8Array(4 + head.length + offset);
  new DataView(out.buffer).setUint32(0, header, true);
  out.set(head, 4);
  let at = 4 + head.length;
  for (let p = 0; p < parts.length; p++) {
    out.set(parts[p], at);
    at += parts[p].length;
  }
  return out;
}

/**
 * encode()'s message, laid out for Node to write in one buffer: the header, the JSON (as a
 * string) and the byte arrays. Node's side only; XS keeps encode(), whose cost it meters.
 */
export function layout(value: unknown): { header: number; json: string; parts: Uint8Array[] } {
  const parts: Uint8Array[] = [];
  const refs: Ref[] = [];
  const stripped = value !== null && typeof value === "object" ? strip(value, [], parts, refs) : value;
  let offset = 0;
  for (let r = 0; r < refs.length; r++) {
    refs[r][0] = offset;
    offset += refs[r][1] as number;
  }
  return { header: refs.length ? WITH_REFS : 0, json: JSON.stringify(refs.length ? [stripped, refs] : stripped) ?? "null", parts };
}

export function decode(message: Uint8Array): unknown {
  const header = new DataView(message.buffer, message.byteOffset, message.byteLength).getUint32(0, true);
  const length = header & ~WITH_REFS; // the JSON's length, without the flag
  const value: unknown = JSON.parse(decoder.decode(message.subarray(4, 4 + length)));
  if (!(header & WITH_REFS)) return value;
  const holder = value as [unknown, Ref[]];
  const refs = holder[1];
  const body = 4 + length;
  for (let r = 0; r < refs.length; r++) {
    const ref = refs[r];
    let at = holder as unknown as Record<string | number, unknown>;
    let key: string | number = 0;
    for (let i = 2; i < ref.length; i++) {
      at = at[key] as Record<string | number, unknown>;
      key = ref[i];
    }
    const start = body + (ref[0] as number);
    at[key] = message.subarray(start, start + (ref[1] as number)); // in Node, a Buffer as before
  }
  return holder[0];
}
