// AT+SYSMSGFILTERCFG's expressions: POSIX basic and extended regular expressions, as ESP-IDF's
// regcomp reads them, turned into JavaScript's (src/at/msgfilter.ts).
import assert from "node:assert/strict";
import { posixToRegExp } from "../../src/at/msgfilter.ts";

const matches = (source: string, cflags: number, text: string) => posixToRegExp(source, cflags).exec(text)?.[0];

describe("AT+SYSMSGFILTERCFG's regular expressions (POSIX, as regcomp reads them)", () => {
  it("BRE: + ? | ( ) { } are themselves; \\( \\) group and \\{m,n\\} counts", () => {
    assert.equal(matches("^+HTTPCGET:[0-9]*,", 0, "+HTTPCGET:12,data"), "+HTTPCGET:12,", "the doc's HTTP example");
    assert.equal(matches("a|b(c)?", 0, "xa|b(c)?"), "a|b(c)?");
    assert.equal(matches("\\(ab\\)\\{2\\}", 0, "ababab"), "abab");
    assert.equal(matches("a\\{2,3\\}", 0, "aaaa"), "aaa");
    assert.equal(matches("\\(a\\)\\1", 0, "xaa"), "aa", "a back-reference");
  });

  it("BRE: ^ anchors only first, $ only last, * first is itself", () => {
    assert.equal(matches("a^b", 0, "a^b"), "a^b");
    assert.equal(matches("a$b", 0, "a$b"), "a$b");
    assert.equal(matches("*a", 0, "x*a"), "*a");
    assert.equal(matches("^*a", 0, "*a"), "*a");
    assert.equal(matches("\\(*a\\)", 0, "*a"), "*a", "first in a group too");
    assert.equal(matches("x(*", 0, "x(("), "x((", "after a ( that is itself, * repeats it");
    assert.equal(matches("\r\nOK\r\n$", 0, "\r\nOK\r\n"), "\r\nOK\r\n", "the doc's tail");
    assert.equal(matches("OK$", 0, "OK\r\nmore"), undefined);
  });

  it("ERE (cflags bit 0): + ? | ( ) { } are operators", () => {
    assert.equal(matches("^(ab)+$", 1, "abab"), "abab");
    assert.equal(matches("a{2}", 1, "aaa"), "aa");
    assert.equal(matches("x|y", 1, "y"), "y");
    assert.throws(() => posixToRegExp("a(", 1));
  });

  it("brackets: a backslash and a leading ] are themselves; named classes", () => {
    assert.equal(matches("[\\]", 0, "\\"), "\\");
    assert.equal(matches("[]a]*", 0, "]a]"), "]a]");
    assert.equal(matches("[[:digit:]]*", 0, "123x"), "123");
    assert.equal(matches("[^[:space:]]*", 0, "ab c"), "ab");
    assert.throws(() => posixToRegExp("[abc", 0));
    assert.throws(() => posixToRegExp("[[:nope:]]", 0));
  });

  it("REG_ICASE (bit 1) ignores case; REG_NEWLINE (bit 2) makes ^ and $ match at lines, and . stop at them", () => {
    assert.equal(matches("^wifi", 2, "WIFI CONNECTED"), "WIFI");
    assert.equal(matches("^b", 0, "a\nb"), undefined);
    assert.equal(matches("^b", 4, "a\nb"), "b");
    assert.equal(matches("a.b", 0, "a\nb"), "a\nb", "without REG_NEWLINE a newline is an ordinary character");
    assert.equal(matches("a.b", 4, "a\nb"), undefined);
  });
});
