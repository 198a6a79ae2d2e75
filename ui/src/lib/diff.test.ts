import { describe, expect, it } from "vitest";
import { diffLines, diffSummary, splitLines } from "./diff";

const kinds = (before: string, after: string) => diffLines(before, after).map((l) => `${l.kind[0]}${l.text}`);

describe("splitLines", () => {
  it("ignores one final newline only", () => {
    expect(splitLines("")).toEqual([]);
    expect(splitLines("a\nb\n")).toEqual(["a", "b"]);
    expect(splitLines("a\r\n\n")).toEqual(["a", ""]);
  });
});

describe("diffLines", () => {
  it("equal texts are all the same lines, numbered on both sides", () => {
    const lines = diffLines("a\nb\n", "a\nb\n");
    expect(lines.map((l) => [l.kind, l.oldNo, l.newNo])).toEqual([["same", 1, 1], ["same", 2, 2]]);
  });
  it("a changed line is a deletion then an addition", () => {
    expect(kinds("id: x\nmsg: old\nend\n", "id: x\nmsg: new\nend\n")).toEqual(["sid: x", "dmsg: old", "amsg: new", "send"]);
  });
  it("insertions and removals keep line numbers of each side", () => {
    const lines = diffLines("a\nb\nc\nd", "a\nc\nx\nd\ne");
    expect(lines.map((l) => `${l.kind[0]}${l.text}:${l.oldNo ?? "-"}/${l.newNo ?? "-"}`)).toEqual([
      "sa:1/1", "db:2/-", "sc:3/2", "ax:-/3", "sd:4/4", "ae:-/5",
    ]);
    expect(diffSummary(lines)).toEqual({ added: 2, removed: 1 });
  });
  it("from and to nothing", () => {
    expect(kinds("", "a\nb")).toEqual(["aa", "ab"]);
    expect(kinds("a\nb", "")).toEqual(["da", "db"]);
  });
  it("repeated lines align on the longest common run", () => {
    expect(kinds("x\ny\nx\ny", "x\ny\nz\nx\ny")).toEqual(["sx", "sy", "az", "sx", "sy"]);
  });
});
