import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

// Every relative link in README.md and docs/*.md must reach a file, and every #anchor a heading
// of its target as GitHub renders it. No markdown library is in the dependencies, so this reads
// the little markdown the pages use: ATX headings, inline links and images, reference
// definitions, fenced code (skipped) and inline code (skipped).

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** The pages checked: the README and every page in docs/. */
function pages(root: string): string[] {
  const docs = join(root, "docs");
  const inDocs = existsSync(docs) ? readdirSync(docs).filter((f) => f.endsWith(".md")).sort().map((f) => join(docs, f)) : [];
  return [join(root, "README.md"), ...inDocs];
}

/** GitHub's heading anchor (github-slugger's rule): lower case, punctuation dropped except `-` and `_`, each space a `-`. */
function slug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1") // a link or image: its text
    .replace(/<[^>]+>/g, "") // inline HTML
    .replace(/(^|[^\p{L}\p{N}])_+([^_]+?)_+(?=[^\p{L}\p{N}]|$)/gu, "$1$2"); // _emphasis_
  return text.toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "").replace(/ /g, "-");
}

/** Lines outside fenced code blocks, with their 1-based numbers. */
function prose(markdown: string): { line: string; n: number }[] {
  const out: { line: string; n: number }[] = [];
  let fence: string | undefined;
  markdown.split("\n").forEach((line, i) => {
    const open = /^\s*(`{3,}|~{3,})/.exec(line);
    if (fence !== undefined) {
      if (open && open[1][0] === fence[0] && open[1].length >= fence.length && line.trim() === open[1]) fence = undefined;
    } else if (open) fence = open[1];
    else out.push({ line, n: i + 1 });
  });
  return out;
}

/** The anchors a page has: its headings' slugs (a repeated one gets -1, -2, ...) and HTML ids and names. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const found = new Set<string>();
  for (const { line } of prose(markdown)) {
    const heading = /^ {0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$/.exec(line);
    if (heading) {
      const base = slug(heading[1]);
      let id = base;
      for (let k = seen.get(base) ?? 0; found.has(id); k++) {
        id = `${base}-${k + 1}`;
        seen.set(base, k + 1);
      }
      found.add(id);
    }
    for (const m of line.matchAll(/<a\s[^>]*(?:name|id)="([^"]+)"/g)) found.add(m[1]);
  }
  return found;
}

/** The link targets in a page, outside code: inline links, images and reference definitions. */
function links(markdown: string): { target: string; n: number }[] {
  const out: { target: string; n: number }[] = [];
  for (const { line, n } of prose(markdown)) {
    const text = line.replace(/(`+)[\s\S]*?\1/g, "");
    for (const m of text.matchAll(/\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)/g)) out.push({ target: m[1], n });
    const definition = /^ {0,3}\[[^\]]+\]:\s*<?([^\s>]+)/.exec(text);
    if (definition) out.push({ target: definition[1], n });
  }
  return out;
}

/** Every link in these pages that does not resolve, as `page:line: target (why)`. */
function brokenLinks(root: string, files: string[]): string[] {
  const anchorsOf = new Map<string, Set<string>>();
  const anchorsIn = (file: string) => {
    if (!anchorsOf.has(file)) anchorsOf.set(file, anchors(readFileSync(file, "utf8")));
    return anchorsOf.get(file)!;
  };
  const broken: string[] = [];
  for (const file of files) {
    for (const { target, n } of links(readFileSync(file, "utf8"))) {
      if (target === "" || /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith("//")) continue; // not relative
      const where = `${relative(root, file)}:${n}: ${target}`;
      const hash = target.indexOf("#");
      const path = decodeURIComponent(hash < 0 ? target : target.slice(0, hash));
      const anchor = hash < 0 ? undefined : decodeURIComponent(target.slice(hash + 1));
      const to = path === "" ? file : path.startsWith("/") ? join(root, path) : resolve(dirname(file), path);
      if (!existsSync(to)) {
        broken.push(`${where} (no such file)`);
        continue;
      }
      if (anchor !== undefined && to.endsWith(".md") && !anchorsIn(to).has(anchor)) {
        broken.push(`${where} (no heading with that anchor in ${relative(root, to)})`);
      }
    }
  }
  return broken;
}

describe("documentation links", () => {
  it("makes GitHub's heading anchors", () => {
    assert.equal(slug("What is not done yet"), "what-is-not-done-yet");
    assert.equal(slug("CAN sockets (`AF_CAN`)"), "can-sockets-af_can");
    assert.equal(slug("The TWAI driver (`drivers/can/twai`)"), "the-twai-driver-driverscantwai");
    assert.equal(slug("`xsock sim --uart-link` and `--json`"), "xsock-sim---uart-link-and---json");
    assert.equal(slug("The test API: `xsock/sim`"), "the-test-api-xsocksim");
    assert.equal(slug("TCP/IP"), "tcpip");
    assert.equal(slug("Moddable's [lin](https://example.com) runtime"), "moddables-lin-runtime");
    assert.deepEqual([...anchors("# A\n\n## A\n\n```sh\n# A\n```\n\n### A\n")], ["a", "a-1", "a-2"]);
  });

  it("finds links outside code only", () => {
    const page = "See [x](a.md#b) and `[y](c.md)`.\n\n```\n[z](d.md)\n```\n\n[ref]: e.md\n![img](f.png \"title\")\n";
    assert.deepEqual(links(page).map((l) => l.target), ["a.md#b", "e.md", "f.png"]);
  });

  it("reports a link to a missing file, and an anchor that no heading has", () => {
    const dir = mkdtempSync(join(tmpdir(), "xsock-docs-links-"));
    try {
      mkdirSync(join(dir, "docs"));
      writeFileSync(join(dir, "README.md"), "# Top\n\n## Part two\n\n[a](#part-two) [b](docs/page.md#there) [c](docs/gone.md)\n[d](#part-three) [e](docs/page.md#here) [f](docs)\n");
      writeFileSync(join(dir, "docs", "page.md"), "# There\n\n[back](../README.md#top) [up](/README.md#part-two) [out](https://example.com/x.md)\n");
      assert.deepEqual(brokenLinks(dir, pages(dir)), [
        "README.md:5: docs/gone.md (no such file)",
        "README.md:6: #part-three (no heading with that anchor in README.md)",
        "README.md:6: docs/page.md#here (no heading with that anchor in docs/page.md)",
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("resolves every relative link and anchor in README.md and docs/*.md", () => {
    const files = pages(ROOT);
    assert.ok(files.length > 1, "README.md and the docs pages");
    assert.deepEqual(brokenLinks(ROOT, files), []);
  });
});
