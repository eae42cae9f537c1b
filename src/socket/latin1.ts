// Text and bytes one for one: each character a byte (ISO-8859-1), as the ESP-AT console, HTTP
// heads and WebSocket handshakes carry them.

/**
 * Bytes to text, 64 at a time: each argument takes a stack slot, and XS's stack on the board is
 * 512 slots. `apply` reads its arguments by index, where a spread steps an iterator (several
 * times the computrons).
 */
export function decodeLatin1(bytes: Uint8Array | readonly number[]): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 64) text += String.fromCharCode.apply(null, bytes.slice(i, i + 64) as number[]);
  return text;
}

/** Text to bytes, the low byte of each character. */
export function encodeLatin1(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i) & 0xff;
  return bytes;
}
