// The CA certificates SSL links may check servers against (AT+CIPSSLCCONF's CA numbers), and the
// client certificates and keys they may show (its PKI numbers). ESP-AT flashes them in its
// manufacturing partition; here they come from the app's config, `config.ca`, `config.clientCert`
// and `config.clientKey`: a list, each entry PEM or base64 DER, or one string holding them (PEM
// blocks, or base64 DER separated by commas), as `mcconfig ca=...` and `xsock sim ca=...` give it.

import { decodeLatin1 } from "./console";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** Base64 to bytes; undefined when it is not base64. */
export function decodeBase64(text: string): Uint8Array | undefined {
  const clean = text.replace(/\s+/g, "").replace(/=+$/, "");
  if (!clean || clean.length % 4 === 1) return undefined;
  const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let bits = 0;
  let value = 0;
  let at = 0;
  for (const c of clean) {
    const digit = ALPHABET.indexOf(c);
    if (digit < 0) return undefined;
    value = (value << 6) | digit;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[at++] = (value >> bits) & 0xff;
    }
  }
  return out;
}

/** A DER certificate, or PKCS#8 key, starts with an ASN.1 SEQUENCE. */
const looksDer = (der: Uint8Array | undefined): der is Uint8Array => der !== undefined && der.length > 16 && der[0] === 0x30;

/**
 * The CAs in `config.ca`, numbered from 0 in order. An entry that is not a certificate keeps its
 * number and is undefined, so the others keep theirs; CIPSSLCCONF refuses its number.
 */
export function parseCas(value: unknown): (ArrayBuffer | undefined)[] {
  return parseDer(value, "CERTIFICATE");
}

/** A client certificate and its PKCS#8 private key, both DER: one PKI number. */
export interface Pki {
  cert: ArrayBuffer;
  key: ArrayBuffer;
}

/**
 * The client certificates in `config.clientCert` and their keys in `config.clientKey`, paired in
 * order and numbered from 0 (AT+CIPSSLCCONF's PKI numbers). A key is PKCS#8 (`BEGIN PRIVATE KEY`),
 * the form Moddable's TLS reads; a number whose certificate or key is missing or unreadable is
 * undefined.
 */
export function parsePki(certs: unknown, keys: unknown): (Pki | undefined)[] {
  const certList = parseDer(certs, "CERTIFICATE");
  const keyList = parseDer(keys, "PRIVATE KEY");
  return certList.map((cert, i) => {
    const key = keyList[i];
    return cert && key ? { cert, key } : undefined;
  });
}

/** Entries of `label` (PEM blocks, or base64 DER), in order; one that is unreadable is undefined. */
function parseDer(value: unknown, label: string): (ArrayBuffer | undefined)[] {
  const pem = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`, "g");
  if (value === undefined || value === null || value === "") return [];
  const entries: unknown[] = Array.isArray(value) ? value : [value];
  const out: (ArrayBuffer | undefined)[] = [];
  for (const entry of entries) {
    if (typeof entry !== "string") {
      out.push(undefined);
      continue;
    }
    const pieces = entry.includes("-----BEGIN") ? [...entry.matchAll(pem)].map((m) => m[1]!) : entry.split(",");
    if (!pieces.length) out.push(undefined);
    for (const piece of pieces) {
      const der = decodeBase64(piece);
      out.push(looksDer(der) ? (der.buffer as ArrayBuffer) : undefined);
    }
  }
  return out;
}

/**
 * One certificate or PKCS#8 key, as a stored value holds it (AT+SYSMFG): the first PEM block of
 * `label`, or DER; undefined when it is neither.
 */
export function readDer(bytes: Uint8Array, label: "CERTIFICATE" | "PRIVATE KEY"): ArrayBuffer | undefined {
  const der: Uint8Array | undefined = bytes;
  if (looksDer(der)) return der.slice().buffer as ArrayBuffer;
  const text = decodeLatin1(bytes);
  return text.includes("-----BEGIN") ? parseDer(text, label)[0] : undefined;
}

/** The PKCS#8 keys in `config.clientKey`, numbered from 0 as its certificates are. */
export function parseKeys(value: unknown): (ArrayBuffer | undefined)[] {
  return parseDer(value, "PRIVATE KEY");
}
