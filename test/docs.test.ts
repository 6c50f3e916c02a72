// The documentation as a reader clicks through it: every relative link of README.md and docs/
// reaches a file, and every #anchor a heading of it; every how-to is one click from the README.
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { PROJECT_ROOT } from "../offline/stackHarness";

const docs = [
    "README.md",
    ...readdirSync(path.join(PROJECT_ROOT, "docs"), { recursive: true })
        .map((f) => path.join("docs", String(f)))
        .filter((f) => f.endsWith(".md")),
];

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function anchorsOf(file: string): Set<string> {
    const text = readFileSync(path.join(PROJECT_ROOT, file), "utf8").replace(/```[\s\S]*?```/g, "");
    return new Set(
        [...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) =>
            m[1]
                .trim()
                .toLowerCase()
                .replace(/[^\p{L}\p{N} _-]/gu, "")
                .replace(/ /g, "-"),
        ),
    );
}

function linksOf(file: string): string[] {
    const text = readFileSync(path.join(PROJECT_ROOT, file), "utf8").replace(/```[\s\S]*?```/g, "");
    return [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]).filter((l) => !/^[a-z]+:/.test(l));
}

describe("the documentation", () => {
    it("has no broken relative link or anchor", () => {
        const broken: string[] = [];
        for (const file of docs) {
            for (const link of linksOf(file)) {
                const [target, anchor] = link.split("#");
                const resolved = target ? path.normalize(path.join(path.dirname(file), target)) : file;
                if (!existsSync(path.join(PROJECT_ROOT, resolved))) broken.push(`${file}: ${link} (no ${resolved})`);
                else if (anchor && resolved.endsWith(".md") && !anchorsOf(resolved).has(anchor)) broken.push(`${file}: ${link} (no heading #${anchor})`);
            }
        }
        assert.deepEqual(broken, []);
    });

    it("puts every how-to and reference one click from the README", () => {
        const fromReadme = new Set(linksOf("README.md").map((l) => path.normalize(l.split("#")[0])));
        const pages = docs.filter((f) => f.startsWith("docs"));
        assert.ok(pages.length >= 10);
        for (const page of pages) assert.ok(fromReadme.has(page), `${page} is not linked from README.md`);
    });
});
