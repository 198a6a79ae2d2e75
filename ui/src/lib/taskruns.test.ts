import { describe, expect, it } from "vitest";
import { applyTaskRunEvents, readTaskRunParams, taskRunFilter, taskRunOrder } from "./taskruns";

describe("task run params", () => {
  it("reads the URL, ignoring unknown states, ranges and sorts", () => {
    const p = readTaskRunParams(new URLSearchParams("namespace=a&flow=f&task=t&state=failed,NOPE&range=PT2H&sort=x"));
    expect(p).toEqual({ namespace: "a", flow: "f", task: "t", states: ["FAILED"], range: "", sort: "newest" });
  });
  it("turns a relative range into a start-date bound", () => {
    const p = readTaskRunParams(new URLSearchParams("range=PT1H&sort=duration"));
    const now = Date.parse("2026-01-01T12:00:00Z");
    expect(taskRunFilter(p, now)).toEqual({
      namespace: null, flowId: null, taskId: null, state: null, startDate: { gte: "2026-01-01T11:00:00.000Z" },
    });
    expect(taskRunOrder(p.sort)).toEqual({ field: "DURATION", direction: "DESC" });
    expect(taskRunOrder("newest")).toEqual({ field: "CREATION", direction: "DESC" });
  });
});

describe("applyTaskRunEvents", () => {
  const p = readTaskRunParams(new URLSearchParams("task=nap"));
  it("changes known rows in place and reports matching unknown ones", () => {
    const row = { id: "r1", state: { current: "RUNNING", startDate: "s", endDate: null as string | null } };
    const rows = new Map([["r1", row]]);
    const unknown = applyTaskRunEvents(rows, [
      { taskRunId: "r1", taskId: "nap", state: "SUCCESS", date: "d1" },
      { taskRunId: "r2", taskId: "nap", state: "CREATED", date: "d2" },
      { taskRunId: "r3", taskId: "other", state: "CREATED", date: "d3" },
      { taskRunId: null, state: "RUNNING", date: "d4" },
    ], p);
    expect(row.state).toEqual({ current: "SUCCESS", startDate: "s", endDate: "d1" });
    expect([...unknown]).toEqual(["r2"]);
  });
  it("clears the end date when a row runs again (a restart)", () => {
    const row = { id: "r1", state: { current: "FAILED", startDate: "s", endDate: "e" as string | null } };
    applyTaskRunEvents(new Map([["r1", row]]), [{ taskRunId: "r1", state: "RESTARTED", date: "d" }], p);
    expect(row.state.endDate).toBeNull();
  });
});
