import assert from "node:assert/strict";
import fc from "fast-check";
import { runs } from "../helpers/fuzz.ts";
import { familyOf, inet_aton, inet_ntoa, ip_to_tuple, parseIPv6, toAddress } from "../../src/socket/address.ts";
import { AF_INET, AF_INET6 } from "../../src/socket/constants.ts";
import { SocketError } from "../../src/socket/errors.ts";

const errno = (code: number) => (e: unknown) => e instanceof SocketError && e.errno === code;

describe("socket address forms", () => {
  it("reads every form of the seed", () => {
    assert.deepEqual(toAddress("192.168.1.10", AF_INET), ["192.168.1.10", 0]);
    assert.deepEqual(toAddress([192, 168, 1, 10], AF_INET), ["192.168.1.10", 0]);
    assert.deepEqual(toAddress(["192.168.1.10", 8080], AF_INET), ["192.168.1.10", 8080]);
    assert.deepEqual(toAddress([192, 168, 1, 10, 8080], AF_INET), ["192.168.1.10", 8080]);
    assert.deepEqual(toAddress(["::1", 8080], AF_INET6), ["::1", 8080]);
    assert.deepEqual(toAddress(["::1", 8080, 0, 0], AF_INET6), ["::1", 8080]);
  });

  it("takes a bare port, or an empty host, as every interface of the family", () => {
    assert.deepEqual(toAddress(8888, AF_INET), ["0.0.0.0", 8888]);
    assert.deepEqual(toAddress(8888, AF_INET6), ["::", 8888]);
    assert.deepEqual(toAddress(["", 5000], AF_INET), ["0.0.0.0", 5000]);
  });

  it("refuses bad ports and bad tuples with EINVAL", () => {
    for (const bad of [70000, -1, 1.5, ["1.2.3.4", 65536], [1, 2, 3], [1, 2, 3, 256], [1, 2, 3, 4, 5, 6], ["a", 1, 2, 3, 4]])
      assert.throws(() => toAddress(bad as never, AF_INET), errno(22), JSON.stringify(bad));
  });

  it("has ip_to_tuple, inet_aton and inet_ntoa", () => {
    assert.deepEqual(ip_to_tuple("10.0.0.254"), [10, 0, 0, 254]);
    assert.deepEqual([...inet_aton("127.0.0.1")], [127, 0, 0, 1]);
    assert.equal(inet_ntoa(Uint8Array.of(192, 168, 1, 10)), "192.168.1.10");
    for (const bad of ["1.2.3", "1.2.3.256", "01.2.3.4", "a.b.c.d", ""]) assert.throws(() => ip_to_tuple(bad), errno(22), bad);
    assert.throws(() => inet_ntoa([1, 2, 3]), errno(22));
  });

  it("parses IPv6 as RFC 4291 writes it", () => {
    assert.deepEqual(parseIPv6("::1"), [0, 0, 0, 0, 0, 0, 0, 1]);
    assert.deepEqual(parseIPv6("fe80::1%eth0"), [0xfe80, 0, 0, 0, 0, 0, 0, 1]);
    assert.deepEqual(parseIPv6("::ffff:127.0.0.1"), [0, 0, 0, 0, 0, 0xffff, 0x7f00, 1]);
    assert.deepEqual(parseIPv6("ff15:7079:7468:6f6e:6465:6d6f:6d63:6173"), [0xff15, 0x7079, 0x7468, 0x6f6e, 0x6465, 0x6d6f, 0x6d63, 0x6173]);
    for (const bad of ["1::2::3", "12345::", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8:9", ":::", "g::1"]) assert.equal(parseIPv6(bad), null, bad);
    assert.equal(familyOf("::"), AF_INET6);
    assert.equal(familyOf("localhost"), 0);
  });

  it("round-trips any IPv4 address and port, and never throws anything but a SocketError (fuzz)", () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.integer({ min: 0, max: 65535 }), (ip, port) => {
        assert.deepEqual(toAddress([ip, port], AF_INET), [ip, port]);
        assert.deepEqual(toAddress([...ip_to_tuple(ip), port], AF_INET), [ip, port]);
        assert.equal(inet_ntoa(inet_aton(ip)), ip);
      }),
      { numRuns: runs(2000) },
    );
    fc.assert(fc.property(fc.ipV6(), (ip) => assert.equal(parseIPv6(ip)?.length, 8, ip)), { numRuns: runs(2000) });
    // fast-check found it: a port whose String() throws ({ toString: "" }) got a TypeError.
    assert.throws(() => toAddress(["", { toString: "" }] as never, AF_INET), (e) => e instanceof SocketError && /bad port object/.test(e.message));
    fc.assert(
      fc.property(fc.anything(), (value) => {
        try {
          toAddress(value as never, AF_INET);
        } catch (e) {
          assert.ok(e instanceof SocketError, String(e));
        }
      }),
      { numRuns: runs(2000) },
    );
  });
});
