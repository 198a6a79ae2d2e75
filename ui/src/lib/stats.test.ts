import { describe, expect, it } from "vitest";
import { isoDurationMs, percentileRows, percentileScale, stateTotals, successRate } from "./stats";

describe("isoDurationMs", () => {
  it("reads the server's Java-style durations", () => {
    expect(isoDurationMs("PT0.205802S")).toBeCloseTo(205.802);
    expect(isoDurationMs("PT1M30S")).toBe(90000);
    expect(isoDurationMs("PT24H")).toBe(86400000);
    expect(isoDurationMs("P1DT1H")).toBe(90000000);
    expect(isoDurationMs("-PT1S")).toBe(-1000);
  });
  it("refuses what is not a duration", () => {
    for (const bad of ["", null, "P", "PT", "1s", "PT1X", "P1Y"]) expect(isoDurationMs(bad)).toBeNaN();
  });
});

describe("percentileRows", () => {
  const stats = [
    { namespace: "a", flowId: "fast", ended: 3, p50: "PT0.1S", p90: "PT0.2S", p99: "PT0.3S" },
    { namespace: "a", flowId: "none", ended: 0, p50: null, p90: null, p99: null },
    { namespace: "b", flowId: "slow", ended: 1, p50: "PT2S", p90: "PT2S", p99: "PT2S" },
  ];
  it("keeps flows with ended executions, slowest p99 first, in ms", () => {
    const rows = percentileRows(stats);
    expect(rows.map((r) => r.key)).toEqual(["b/slow", "a/fast"]);
    expect(rows[1]).toMatchObject({ p50: 100, p90: 200, p99: 300, ended: 3 });
    expect(percentileScale(rows)).toBe(2000);
    expect(percentileScale([])).toBe(1);
  });
});

describe("stateTotals / successRate", () => {
  const buckets = [
    { start: "t1", total: 3, counts: [{ state: "SUCCESS", count: 2 }, { state: "FAILED", count: 1 }] },
    { start: "t2", total: 2, counts: [{ state: "SUCCESS", count: 1 }, { state: "RUNNING", count: 1 }] },
  ];
  it("sums per state across buckets", () => {
    expect(stateTotals(buckets)).toEqual({ totals: [["SUCCESS", 3], ["FAILED", 1], ["RUNNING", 1]], sum: 5 });
  });
  it("rates ended executions only", () => {
    expect(successRate([["SUCCESS", 3], ["FAILED", 1], ["RUNNING", 5]])).toBe(0.75);
    expect(successRate([["RUNNING", 2]])).toBeNull();
  });
});
