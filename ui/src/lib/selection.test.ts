import { describe, expect, it } from "vitest";
import { EMPTY, clickHeader, clickRow, headerState, isPicked, nonePicked, pickedCount, target, type Selection } from "./selection";

const order = ["a", "b", "c", "d", "e"];
const ids = (s: Selection) => (s.kind === "rows" ? [...s.ids].sort() : "matching");

describe("selection", () => {
  it("toggles one row per click", () => {
    let s = clickRow(EMPTY, "b", order, false);
    expect(ids(s)).toEqual(["b"]);
    s = clickRow(s, "d", order, false);
    expect(ids(s)).toEqual(["b", "d"]);
    s = clickRow(s, "b", order, false);
    expect(ids(s)).toEqual(["d"]);
  });

  it("shift-click picks the range from the last clicked row, in either direction", () => {
    let s = clickRow(EMPTY, "b", order, false);
    s = clickRow(s, "d", order, true);
    expect(ids(s)).toEqual(["b", "c", "d"]);
    s = clickRow(EMPTY, "e", order, false);
    s = clickRow(s, "c", order, true);
    expect(ids(s)).toEqual(["c", "d", "e"]);
  });

  it("shift-click on a picked row unpicks the range", () => {
    let s = clickHeader(EMPTY, order);
    s = clickRow(s, "b", order, false); // unpicks b, anchor b
    s = clickRow(s, "d", order, true); // d was picked: the range b..d goes off
    expect(ids(s)).toEqual(["a", "e"]);
  });

  it("shift-click without an anchor (or one no longer loaded) toggles one row", () => {
    expect(ids(clickRow(EMPTY, "c", order, true))).toEqual(["c"]);
    const stale: Selection = { kind: "rows", ids: new Set(["x"]), anchor: "x" };
    expect(ids(clickRow(stale, "c", order, true))).toEqual(["c", "x"]);
  });

  it("the header box picks the loaded rows, then none; it shows some", () => {
    expect(headerState(EMPTY, order)).toBe("none");
    const some = clickRow(EMPTY, "a", order, false);
    expect(headerState(some, order)).toBe("some");
    const all = clickHeader(some, order);
    expect(headerState(all, order)).toBe("all");
    expect(ids(clickHeader(all, order))).toEqual([]);
    expect(headerState(EMPTY, [])).toBe("none");
  });

  it("nothing picked: the header box is empty without the loaded rows (the list skips them)", () => {
    expect(nonePicked(EMPTY)).toBe(true);
    const some = clickRow(EMPTY, "a", order, false);
    expect(nonePicked(some)).toBe(false);
    expect(nonePicked(clickRow(some, "a", order, false))).toBe(true);
    expect(nonePicked({ kind: "matching" })).toBe(false);
  });

  it("every match: all rows picked, the count from the server, the filter as target", () => {
    const s: Selection = { kind: "matching" };
    expect(isPicked(s, "zzz")).toBe(true);
    expect(headerState(s, order)).toBe("all");
    expect(pickedCount(s, 12_345)).toBe(12_345);
    expect(target(s, order, { flowId: "f" })).toEqual({ filter: { flowId: "f" } });
    // unpicking one row leaves the loaded rows but that one
    expect(ids(clickRow(s, "c", order, false))).toEqual(["a", "b", "d", "e"]);
  });

  it("targets the picked ids in list order", () => {
    let s = clickRow(EMPTY, "d", order, false);
    s = clickRow(s, "a", order, false);
    expect(target(s, order, {})).toEqual({ ids: ["a", "d"] });
    expect(pickedCount(s, 99)).toBe(2);
  });
});
