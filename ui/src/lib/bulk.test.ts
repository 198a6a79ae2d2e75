import { describe, expect, it } from "vitest";
import { parseLabelInput, replayedAs, resultsById, sentence, summarize } from "./bulk";

const items = [
  { executionId: "a", outcome: "OK" as const, message: null, state: "RESTARTED" as const },
  { executionId: "b", outcome: "SKIPPED" as const, message: "RUNNING: only a terminated execution can be deleted", state: "RUNNING" as const },
  { executionId: "c", outcome: "SKIPPED" as const, message: "RUNNING: only a terminated execution can be deleted", state: "RUNNING" as const },
  { executionId: "d", outcome: "ERROR" as const, message: "no execution d", state: null },
  { executionId: "e", outcome: "SKIPPED" as const, message: null, state: "SUCCESS" as const },
];

describe("bulk results", () => {
  it("maps every item to its row", () => {
    const rows = resultsById(items, "RESTART");
    expect(rows.get("a")).toEqual({ outcome: "OK", message: "", state: "RESTARTED", gone: false });
    expect(rows.get("b")?.message).toContain("only a terminated");
    expect(rows.get("d")).toEqual({ outcome: "ERROR", message: "no execution d", state: null, gone: false });
    expect(rows.has("z")).toBe(false);
    const deleted = resultsById(items, "DELETE");
    expect([deleted.get("a")?.gone, deleted.get("b")?.gone]).toEqual([true, false]);
  });

  it("counts outcomes and groups reasons, most frequent first", () => {
    const s = summarize(items);
    expect([s.ok, s.skipped, s.error]).toEqual([1, 3, 1]);
    expect(s.reasons.map((r) => [r.outcome, r.count, r.ids])).toEqual([
      ["SKIPPED", 2, ["b", "c"]],
      ["ERROR", 1, ["d"]],
      ["SKIPPED", 1, ["e"]],
    ]);
    expect(s.reasons[2].message).toBe("skipped");
  });

  it("says what would happen and what happened", () => {
    const s = summarize(items);
    expect(sentence(s, "deleted", true)).toBe("1 would be deleted, 3 skipped, 1 not found");
    expect(sentence(summarize(items.slice(0, 1)), "restarted", false)).toBe("1 restarted");
  });
});

describe("a replay's item", () => {
  it("names the new execution", () => {
    expect(replayedAs("replayed as 035A9KUwQ3bF2hXkR8mZt1")).toBe("035A9KUwQ3bF2hXkR8mZt1");
    expect(replayedAs("RUNNING: only a terminated execution can be replayed")).toBeNull();
    expect(replayedAs("")).toBeNull();
  });
});

describe("the labels form", () => {
  it("reads key:value pairs separated by commas or lines", () => {
    expect(parseLabelInput("team: core,\nowner:ana ")).toEqual({
      labels: [{ key: "team", value: "core" }, { key: "owner", value: "ana" }],
      problems: [],
    });
  });

  it("names each pair without a value, and an empty form", () => {
    expect(parseLabelInput("team, :x, k:").problems).toEqual([
      '"team": write key:value', '":x": write key:value', '"k:": write key:value',
    ]);
    expect(parseLabelInput("  ").problems).toEqual(["give at least one key:value label"]);
  });
});
