import { describe, expect, it } from "vitest";
import { applyEvents, durationMs, inFlow, executionFilter, fillBuckets, liveFilter, matchesList, parseLabels, readParams, routeEvents, statsWindow, type LiveRow, type MemberRow } from "./executions";

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

describe("matchesList", () => {
  const now = Date.parse("2026-01-01T12:00:00Z");
  const row = (state = "RUNNING", start = "2026-01-01T11:30:00Z"): MemberRow => ({
    id: "7AbCdEf", namespace: "company.team", flowId: "Nightly", state: { current: state, startDate: start },
  });
  const params = (query: string) => readParams(new URLSearchParams(query));
  it("tests states, text (case-insensitive, id, namespace or flow) and the start window", () => {
    expect(matchesList(row(), params(""), now)).toBe(true);
    expect(matchesList(row(), params("state=RUNNING,FAILED"), now)).toBe(true);
    expect(matchesList(row("SUCCESS"), params("state=RUNNING,FAILED"), now)).toBe(false);
    for (const q of ["abcd", "TEAM", "night"]) expect(matchesList(row(), params(`q=${q}`), now)).toBe(true);
    expect(matchesList(row(), params("q=other"), now)).toBe(false);
    expect(matchesList(row(), params("range=PT1H"), now)).toBe(true);
    expect(matchesList(row("RUNNING", "2026-01-01T10:59:00Z"), params("range=PT1H"), now)).toBe(false);
    const window = "from=2026-01-01T11:00:00Z&to=2026-01-01T11:30:00Z";
    expect(matchesList(row("RUNNING", "2026-01-01T11:00:00Z"), params(window), now)).toBe(true);
    expect(matchesList(row(), params(window), now)).toBe(false); // `to` is exclusive
  });
});

describe("routeEvents", () => {
  type Row = MemberRow & { labels: string[] };
  const created = (id: string, state = "CREATED"): Row => ({
    id, namespace: "n", flowId: "f", labels: [], state: { current: state, startDate: "t0", endDate: null },
  });
  const event = (id: string, state: string, execution: Row | null = null) => ({ executionId: id, state, date: `d-${id}-${state}`, execution });
  const all = () => true;
  it("adds created executions from their snapshot, newest first, with the batch's later states", () => {
    const rows = new Map<string, Row>([["old", created("old", "RUNNING")]]);
    const { added, unknown } = routeEvents(rows, [
      event("a", "CREATED", created("a")),
      event("old", "SUCCESS"),
      event("b", "CREATED", created("b")),
      event("a", "RUNNING"),
      event("a", "SUCCESS"),
    ], all, new Map());
    expect(added.map((r) => r.id)).toEqual(["b", "a"]);
    expect(added[1].state).toEqual({ current: "SUCCESS", startDate: "t0", endDate: "d-a-SUCCESS" });
    expect(rows.get("old")!.state.current).toBe("SUCCESS");
    expect(unknown.size).toBe(0);
  });
  it("executions without a snapshot (before the stream, after a reconnect) are for the head look", () => {
    const { added, unknown } = routeEvents(new Map<string, Row>(), [event("x", "RUNNING"), event("y", "CREATED")], all, new Map());
    expect(added).toEqual([]);
    expect([...unknown]).toEqual(["x", "y"]);
  });
  it("a created execution that does not match waits outside and joins once a state matches", () => {
    const outside = new Map<string, Row>();
    const failed = (r: Row) => r.state.current === "FAILED";
    const first = routeEvents(new Map<string, Row>(), [event("a", "CREATED", created("a")), event("a", "RUNNING")], failed, outside);
    expect(first.added).toEqual([]);
    expect(first.unknown.size).toBe(0);
    expect(outside.get("a")!.state.current).toBe("RUNNING");
    const then = routeEvents(new Map<string, Row>(), [event("a", "FAILED")], failed, outside);
    expect(then.added.map((r) => [r.id, r.state.current, r.state.endDate])).toEqual([["a", "FAILED", "d-a-FAILED"]]);
    expect(outside.size).toBe(0);
  });
  it("keeps at most `outsideLimit` executions outside, the oldest forgotten (then: the head look)", () => {
    const outside = new Map<string, Row>();
    const none = () => false;
    routeEvents(new Map<string, Row>(), ["a", "b", "c"].map((id) => event(id, "CREATED", created(id))), none, outside, 2);
    expect([...outside.keys()]).toEqual(["b", "c"]);
    expect([...routeEvents(new Map<string, Row>(), [event("a", "RUNNING")], none, outside, 2).unknown]).toEqual(["a"]);
  });
});

describe("inFlow", () => {
  it("keeps a flow's own executions, not those of a sub-namespace's flow of the same id", () => {
    const row = (namespace: string, flowId: string) => ({ id: "x", namespace, flowId, state: { current: "RUNNING", startDate: "2026-01-01T00:00:00Z" } });
    expect(inFlow(row("team", "etl"), "team", "etl")).toBe(true);
    expect(inFlow(row("team.sub", "etl"), "team", "etl")).toBe(false);
    expect(inFlow(row("team", "etl2"), "team", "etl")).toBe(false);
  });
});
