// The simulator's wire between Node and XS: JSON for structure, raw bytes for byte arrays.
// A message is [JSON length, u32 LE][JSON, UTF-8][bytes...]; each Uint8Array in the value
// travels in the bytes part and stands in the JSON as {"\u0000": [offset, length]}.
// Both engines do JSON and UTF-8 natively, which costs XS a fraction of a JS codec.

const MARK = "\u0000";
const encoder = new (globalThis as unknown as { TextEncoder: new () => { encode(text: string): Uint8Array } }).TextEncoder();
const decoder = new (globalThis as unknown as { TextDecoder: new () => { decode(bytes: Uint8Array): string } }).TextDecoder();

export function encode(value: unknown): Uint8Array {
  const parts: Uint8Array[] = [];
  let offset = 0;
  const json = JSON.stringify(value, function (this: Record<string, unknown> | undefined, key: string, v: unknown) {
    // The value before toJSON (Node's Buffer has one). XS's strict code calls the replacer of an
    // undefined property with no holder: that value is v.
    const raw = key === "" ? value : this === undefined ? v : this[key];
    if (raw instanceof Uint8Array) {
      parts.push(raw);
      offset += raw.length;
      return { [MARK]: [offset - raw.length, raw.length] };
    }
    return v;
  });
  const head = encoder.encode(json ?? "null");
  const out = new Uint8Array(4 + head.length + offset);
  new DataView(out.buffer).setUint32(0, head.length, true);
  out.set(head, 4);
  let at = 4 + head.length;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function decode(message: Uint8Array): unknown {
  const length = new DataView(message.buffer, message.byteOffset, message.byteLength).getUint32(0, true);
  const body = 4 + length;
  return JSON.parse(decoder.decode(message.subarray(4, body)), (_key, v: unknown) => {
    const ref = v !== null && typeof v === "object" ? (v as Record<string, [number, number]>)[MARK] : undefined;
    return ref ? message.subarray(body + ref[0], body + ref[0] + ref[1]) : v;
  });
}
