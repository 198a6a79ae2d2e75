import { describe, expect, it } from "vitest";
import { leafText, pageEntries } from "./json";

describe("pageEntries", () => {
  it("shows the first entries and counts the rest", () => {
    const list = Array.from({ length: 250 }, (_, i) => i);
    const page = pageEntries(list, 100);
    expect(page.shown).toHaveLength(100);
    expect(page.shown[99]).toEqual(["99", 99]);
    expect(page.hidden).toBe(150);
    expect(pageEntries({ a: 1 }, 100)).toEqual({ shown: [["a", 1]], hidden: 0 });
    expect(pageEntries("text", 100)).toEqual({ shown: [], hidden: 0 });
  });
});

describe("leafText", () => {
  it("cuts a long string and says by how much", () => {
    expect(leafText("abc", 10)).toEqual({ text: '"abc"', cut: 0 });
    expect(leafText("x".repeat(20), 10)).toEqual({ text: '"xxxxxxxxx', cut: 12 });
    expect(leafText(null, 10)).toEqual({ text: "null", cut: 0 });
    expect(leafText(42, 10)).toEqual({ text: "42", cut: 0 });
  });
});
