// Byte arrays copied and joined cheaply on XS. XS meters TypedArray's set and slice at two
// computrons a byte, and ArrayBuffer's slice and Moddable's ArrayBuffer concat at a few for
// any size: these use the latter where XS has them.

type Concat = (this: ArrayBuffer, ...others: ArrayBuffer[]) => ArrayBuffer;
const concat = (ArrayBuffer.prototype as unknown as { concat?: Concat }).concat;

/** The bytes, copied into an ArrayBuffer of their own. */
export function bufferOf(bytes: Uint8Array): ArrayBuffer {
  return (bytes.buffer as ArrayBuffer).slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
}

/** The bytes as an ArrayBuffer: their own if they fill it, else a copy. */
function wholeBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? (bytes.buffer as ArrayBuffer) : bufferOf(bytes);
}

/** The parts one after another, in a new array. */
export function joinBytes(parts: Uint8Array[]): Uint8Array {
  if (concat && parts.length) {
    const rest: ArrayBuffer[] = [];
    for (let i = 1; i < parts.length; i++) rest.push(wholeBuffer(parts[i]));
    return new Uint8Array(concat.apply(wholeBuffer(parts[0]), rest));
  }
  let length = 0;
  for (let i = 0; i < parts.length; i++) length += parts[i].length;
  const out = new Uint8Array(length);
  for (let i = 0, at = 0; i < parts.length; at += parts[i].length, i++) out.set(parts[i], at);
  return out;
}
