import { describe, expect, it } from "vitest";
import { slotRows } from "./slots";

describe("slotRows", () => {
  it("puts every row of the window in exactly one slot, row i in slot i % pool", () => {
    for (const [first, last] of [[0, 7], [3, 10], [95, 100], [13, 14]]) {
      const slots = slotRows(first, last, 8, 100);
      expect(slots.filter((i) => i >= 0).sort((a, b) => a - b)).toEqual(Array.from({ length: last - first }, (_, n) => first + n));
      slots.forEach((index, k) => index >= 0 && expect(index % 8).toBe(k));
    }
  });
  it("a row that stays in view keeps its slot as the window moves", () => {
    const before = slotRows(10, 18, 8, 100);
    const after = slotRows(12, 20, 8, 100);
    const moved = before.filter((index, k) => index >= 12 && after[k] !== index);
    expect(moved).toEqual([]);
    expect(after.filter((index, k) => before[k] !== index).sort()).toEqual([18, 19]);
  });
  it("a short list uses as many slots as it has rows", () => {
    expect(slotRows(0, 3, 8, 3)).toEqual([0, 1, 2]);
    expect(slotRows(0, 0, 8, 0)).toEqual([]);
  });
});
