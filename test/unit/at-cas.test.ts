// The CA certificates, client certificates and keys the console takes from config.ca, config.clientCert
// and config.clientKey: PEM or base64 DER, in a list or one string.
import assert from "node:assert/strict";
import { createPrivateKey, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { runs } from "../helpers/fuzz.ts";
import { decodeBase64, parseCas, parseKeys, parsePki, readDer } from "../../src/at/cas.ts";

const pem = (name: string) => readFileSync(new URL(`../fixtures/tls/${name}`, import.meta.url), "utf8");
const TEST = pem("cert.pem");
const OTHER = pem("other-ca.pem");
const derOf = (text: string) => new X509Certificate(text).raw;
const same = (got: ArrayBuffer | undefined, want: Buffer) => assert.ok(got && Buffer.from(got).equals(want));

describe("config.ca", () => {
  it("takes a list of PEM and base64 DER certificates, numbered in order", () => {
    const cas = parseCas([TEST, derOf(OTHER).toString("base64")]);
    assert.equal(cas.length, 2);
    same(cas[0], derOf(TEST));
    same(cas[1], derOf(OTHER));
  });

  it("takes one string of PEM blocks, or of base64 DER separated by commas (mcconfig ca=...)", () => {
    const pems = parseCas(TEST + OTHER);
    same(pems[0], derOf(TEST));
    same(pems[1], derOf(OTHER));
    const ders = parseCas(`${derOf(OTHER).toString("base64")},${derOf(TEST).toString("base64")}`);
    same(ders[0], derOf(OTHER));
    same(ders[1], derOf(TEST));
  });

  it("keeps a bad entry's number as a hole, and has none without config", () => {
    assert.deepEqual(parseCas(undefined), []);
    assert.deepEqual(parseCas(""), []);
    const cas = parseCas(["not base64!", 7, TEST]);
    assert.equal(cas.length, 3);
    assert.equal(cas[0], undefined);
    assert.equal(cas[1], undefined);
    same(cas[2], derOf(TEST));
  });

  it("decodes base64 as Node does, and never throws on any text", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const text = Buffer.from(bytes).toString("base64");
        if (!bytes.length) return;
        assert.deepEqual(Buffer.from(decodeBase64(text)!), Buffer.from(bytes));
      }),
      { numRuns: runs(1000) },
    );
    fc.assert(fc.property(fc.string(), fc.anything(), (text, value) => void (decodeBase64(text), parseCas(text), parseCas(value))), { numRuns: runs(1000) });
  });
});

describe("config.clientCert and config.clientKey", () => {
  const KEY = pem("key.pem"); // PKCS#8, `BEGIN PRIVATE KEY`
  const keyDer = (text: string) => createPrivateKey(text).export({ format: "der", type: "pkcs8" });

  it("pairs certificates and PKCS#8 keys in order, PEM or base64 DER", () => {
    const pki = parsePki([TEST, derOf(TEST).toString("base64")], [KEY, keyDer(KEY).toString("base64")]);
    assert.equal(pki.length, 2);
    for (const entry of pki) {
      same(entry?.cert, derOf(TEST));
      same(entry?.key, keyDer(KEY));
    }
  });

  it("leaves a hole where the certificate or its key is missing or not PKCS#8", () => {
    const pkcs1 = KEY.replace(/PRIVATE KEY/g, "EC PRIVATE KEY");
    const pki = parsePki([TEST, TEST, "not base64!", TEST], [KEY, pkcs1, KEY]);
    assert.equal(pki.length, 4);
    assert.ok(pki[0]);
    assert.deepEqual(pki.slice(1), [undefined, undefined, undefined]);
    assert.deepEqual(parsePki(undefined, undefined), []);
    assert.deepEqual(parsePki(TEST, undefined), [undefined]);
  });
});

describe("a certificate or key as AT+SYSMFG stores it", () => {
  const KEY = pem("key.pem");
  const keyDer = (text: string) => createPrivateKey(text).export({ format: "der", type: "pkcs8" });
  const bytes = (text: string) => Uint8Array.from(Buffer.from(text, "latin1"));

  it("reads the first PEM block of its label, or DER as it is", () => {
    same(readDer(bytes(TEST + OTHER), "CERTIFICATE"), derOf(TEST));
    same(readDer(Uint8Array.from(derOf(OTHER)), "CERTIFICATE"), derOf(OTHER));
    same(readDer(bytes(KEY), "PRIVATE KEY"), keyDer(KEY));
    same(parseKeys([KEY])[0], keyDer(KEY));
  });

  it("reads nothing from text that is not one, or a key that is not PKCS#8", () => {
    assert.equal(readDer(bytes("not a certificate"), "CERTIFICATE"), undefined);
    assert.equal(readDer(bytes(KEY), "CERTIFICATE"), undefined);
    assert.equal(readDer(bytes(KEY.replace(/PRIVATE KEY/g, "EC PRIVATE KEY")), "PRIVATE KEY"), undefined);
    assert.equal(readDer(new Uint8Array(0), "CERTIFICATE"), undefined);
  });
});
