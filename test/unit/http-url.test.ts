// The HTTP client's URLs (src/http/client.ts): what AT+HTTPCLIENT and the others take, and
// how a redirect's Location resolves against the URL it came from.
import assert from "node:assert/strict";
import { importFirmware } from "../helpers/firmware-module.ts";

interface Url {
  secure: boolean;
  host: string;
  port: number;
  path: string;
}
interface Client {
  parseUrl(text: string): Url | undefined;
  resolveUrl(base: Url, location: string): Url | undefined;
  latin1(bytes: Uint8Array): string;
}
let C: Client;

describe("HTTP client URLs", () => {
  before(async () => {
    // The client's socket module is not used here: a stand-in with its names.
    const socket = "export const AF_INET = 2, AF_INET6 = 10, SOCK_STREAM = 1; export function socket() {} export function wrap_socket() {}";
    C = await importFirmware<Client>(`export { parseUrl, resolveUrl } from "xsock/http"; export { decodeLatin1 as latin1 } from "xsock/latin1";`, { "xsock/socket": socket });
  });

  it("parses http and https URLs: default ports, a path or a query alone, IPv6 hosts, a fragment dropped", () => {
    assert.deepEqual(C.parseUrl("http://httpbin.org/get"), { secure: false, host: "httpbin.org", port: 80, path: "/get" });
    assert.deepEqual(C.parseUrl("HTTPS://example.com"), { secure: true, host: "example.com", port: 443, path: "/" });
    assert.deepEqual(C.parseUrl("http://127.0.0.1:8080?x=1#top"), { secure: false, host: "127.0.0.1", port: 8080, path: "/?x=1" });
    assert.deepEqual(C.parseUrl("https://[::1]:8443/a/b?c=d"), { secure: true, host: "::1", port: 8443, path: "/a/b?c=d" });
  });

  it("refuses what is not an http or https URL", () => {
    for (const text of ["", "ftp://host/", "http://", "http://host:0/", "http://host:65536/", "http://a b/", "httpbin.org/get", "http://user@host/"]) assert.equal(C.parseUrl(text), undefined, text);
  });

  it("resolves a Location: absolute, scheme-relative, from the root, and relative to the path's folder", () => {
    const base = C.parseUrl("https://host:8443/a/b?q=1")!;
    assert.deepEqual(C.resolveUrl(base, "http://other/x"), { secure: false, host: "other", port: 80, path: "/x" });
    assert.deepEqual(C.resolveUrl(base, "//other:99/y"), { secure: true, host: "other", port: 99, path: "/y" });
    assert.deepEqual(C.resolveUrl(base, "/root"), { ...base, path: "/root" });
    assert.deepEqual(C.resolveUrl(base, "c?d=2"), { ...base, path: "/a/c?d=2" });
  });

  it("latin1: one character a byte, for any length", () => {
    const bytes = Uint8Array.from({ length: 10000 }, (_, i) => i & 0xff);
    assert.equal(C.latin1(bytes), Buffer.from(bytes).toString("latin1"));
  });
});
