import { describe, expect, it } from "vitest";
import { applyEvents, durationMs, executionFilter, fillBuckets, liveFilter, parseLabels, readParams, statsWindow, type LiveRow } from "./executions";

describe("fillBuckets", () => {
  it("gives every slot of the range, keeping the server's counts", () => {
    expect(durationMs("PT5M")).toBe(300_000);
    const now = Date.UTC(2026, 0, 1, 12, 30);
    const served = { start: "2026-01-01T11:00:00.000000Z", total: 2, counts: [{ state: "SUCCESS", count: 2 }] };
    const all = fillBuckets([served], now - durationMs("PT24H"), now, "PT1H");
    expect(all.length).toBe(24);
    expect(all.at(-1)!.start).toBe("2026-01-01T12:00:00.000Z");
    expect(all.at(-2)).toBe(served);
    expect(all.filter((b) => b.total).length).toBe(1);
  });
});

describe("URL filters", () => {
  it("reads states, text, range and labels from the query string", () => {
    const p = readParams(new URLSearchParams("state=failed,RUNNING,bogus&namespace=a.b&q=x&range=PT24H&labels=team:data,env"));
    expect(p.states).toEqual(["FAILED", "RUNNING"]);
    expect(executionFilter(p)).toEqual({
      state: ["FAILED", "RUNNING"], namespace: "a.b", flowId: null, q: "x", timeRange: "PT24H", startDate: null,
      labels: [{ key: "team", value: "data" }, { key: "env", value: null }],
    });
  });
  it("ignores an unknown range and keeps empty filters null", () => {
    const p = readParams(new URLSearchParams("range=P1000Y"));
    expect(executionFilter(p)).toEqual({ state: null, namespace: null, flowId: null, q: null, timeRange: null, startDate: null, labels: null });
    expect(liveFilter(p).entities).toEqual(["EXECUTION"]);
  });
  it("an absolute window replaces the relative range, in the filter and the chart", () => {
    const p = readParams(new URLSearchParams("range=PT1H&from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z"));
    expect(executionFilter(p).timeRange).toBeNull();
    expect(executionFilter(p).startDate).toEqual({ gte: "2026-01-01T00:00:00.000Z", lt: "2026-01-02T00:00:00.000Z" });
    const w = statsWindow(p, 0);
    expect([w.end - w.start, w.bucket]).toEqual([86_400_000, "PT1H"]);
    expect(readParams(new URLSearchParams("from=garbage")).from).toBe("");
    expect(statsWindow(readParams(new URLSearchParams("")), 1e12).bucket).toBe("PT1H");
  });
  it("parses label values with colons", () => {
    expect(parseLabels("url:http://x, ,k")).toEqual([{ key: "url", value: "http://x" }, { key: "k", value: null }]);
  });
});

describe("applyEvents", () => {
  const row = (id: string): LiveRow => ({ id, state: { current: "CREATED", startDate: "2026-01-01T00:00:00Z" } });
  it("changes rows in place and reports unknown executions", () => {
    const rows = new Map([["a", row("a")]]);
    const unknown = applyEvents(rows, [
      { executionId: "a", state: "RUNNING", date: "t1" },
      { executionId: "b", state: "CREATED", date: "t1" },
      { executionId: "a", state: "SUCCESS", date: "t2" },
    ]);
    expect(rows.get("a")!.state).toEqual({ current: "SUCCESS", startDate: "2026-01-01T00:00:00Z", endDate: "t2" });
    expect([...unknown]).toEqual(["b"]);
  });
  it("a restarted execution runs again (its end is cleared)", () => {
    const rows = new Map([["a", row("a")]]);
    applyEvents(rows, [{ executionId: "a", state: "FAILED", date: "t1" }, { executionId: "a", state: "RESTARTED", date: "t2" }]);
    expect(rows.get("a")!.state.endDate).toBeNull();
  });
});
