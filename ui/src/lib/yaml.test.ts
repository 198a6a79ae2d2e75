import { describe, expect, it } from "vitest";
import { tokenizeLine, tokenizeYaml } from "./yaml";

const show = (line: string) => tokenizeLine(line).map((t) => `${t.kind}:${t.text}`);

describe("tokenizeLine", () => {
  it("keys, values and comments", () => {
    expect(show("id: hello # the id")).toEqual(["key:id", "punct::", "plain: hello ", "comment:# the id"]);
    expect(show("# only a comment")).toEqual(["comment:# only a comment"]);
  });
  it("list items with keys", () => {
    expect(show("  - id: nap")).toEqual(["plain:  ", "punct:- ", "key:id", "punct::", "plain: nap"]);
    expect(show("  - a plain item")).toEqual(["plain:  ", "punct:- ", "plain:a plain item"]);
  });
  it("typed scalars", () => {
    expect(show("count: 42")).toEqual(["key:count", "punct::", "plain: ", "number:42"]);
    expect(show("ok: true")).toEqual(["key:ok", "punct::", "plain: ", "literal:true"]);
    expect(show("x: null")).toEqual(["key:x", "punct::", "plain: ", "literal:null"]);
    expect(show("s: \"a # not a comment\"")).toEqual(["key:s", "punct::", "plain: ", "string:\"a # not a comment\""]);
    expect(show("values: [a, b]")).toEqual(["key:values", "punct::", "plain: [a, b]"]);
  });
  it("expressions inside scalars and strings", () => {
    expect(show('message: "hi {{ inputs.name }}!"')).toEqual([
      "key:message", "punct::", "plain: ", 'string:"hi ', "expr:{{ inputs.name }}", 'string:!"',
    ]);
  });
  it("a URL's colon is not a key", () => {
    expect(show("uri: http://x/y")).toEqual(["key:uri", "punct::", "plain: http://x/y"]);
  });
  it("joining the tokens gives the line back", () => {
    for (const line of ["a: b # c", "  - id: x", "- ", "key:", "'q': 'v'", "  weird :: line", "p: {{ x }}"]) {
      expect(tokenizeLine(line).map((t) => t.text).join("")).toBe(line);
    }
  });
});

describe("tokenizeYaml", () => {
  it("block scalars are kept as blocks until the indentation drops", () => {
    const lines = tokenizeYaml("commands: |\n  echo 1 # not a comment\n\n  echo 2\nnext: 1");
    expect(lines[0].at(-1)).toEqual({ kind: "punct", text: "|" });
    expect(lines[1]).toEqual([{ kind: "block", text: "  echo 1 # not a comment" }]);
    expect(lines[2]).toEqual([]);
    expect(lines[3]).toEqual([{ kind: "block", text: "  echo 2" }]);
    expect(lines[4][0]).toEqual({ kind: "key", text: "next" });
  });
});
