import { describe, expect, it } from "vitest";
import { changeSubject, freshest, offset, resumeQuery, stateCounts, travelPosition } from "./history";
import { foldChanges, type Change } from "./timeline";

const change = (sequence: number, entity: Change["entity"], state: string, taskRunId: string | null = null, extra: Partial<Change> = {}): Change => ({
  sequence, cursor: `c${sequence}`, entity, state, taskRunId, taskId: taskRunId && `t-${taskRunId}`, date: `2026-01-01T00:00:0${sequence}Z`, ...extra,
});

describe("freshest", () => {
  it("keeps the query's history while a replaying log has seen less of it", () => {
    const query = ["CREATED", "RUNNING", "FAILED"];
    expect(freshest(["CREATED", "RUNNING"], query)).toBe(query);
    expect(freshest([], query)).toBe(query);
    const log = ["CREATED", "RUNNING", "FAILED", "RESTARTED"];
    expect(freshest(log, query)).toBe(log);
  });
});

describe("offset", () => {
  it("says how long after the start, to the millisecond", () => {
    expect(offset(52)).toBe("+0.052s");
    expect(offset(12_400)).toBe("+12.400s");
    expect(offset(185_120)).toBe("+3m 05.120s");
    expect(offset(-5)).toBe("-0.005s");
  });
});

describe("travelPosition", () => {
  it("reads ?change=N (1-based), the last entry otherwise", () => {
    expect(travelPosition("3", 10)).toBe(2);
    expect(travelPosition(null, 10)).toBe(9);
    expect(travelPosition("0", 10)).toBe(9);
    expect(travelPosition("11", 10)).toBe(9);
    expect(travelPosition("2.5", 10)).toBe(9);
    expect(travelPosition("abc", 10)).toBe(9);
    expect(travelPosition("1", 0)).toBe(-1);
  });
});

describe("stateCounts", () => {
  it("counts the task runs by their state at that moment", () => {
    const log = [
      change(1, "EXECUTION", "RUNNING"),
      change(2, "TASK_RUN", "CREATED", "a"), change(3, "TASK_RUN", "RUNNING", "a"),
      change(4, "TASK_RUN", "CREATED", "b"), change(5, "TASK_RUN", "SUCCESS", "a"),
      change(6, "TASK_RUN", "CREATED", "c"),
    ];
    expect(stateCounts(foldChanges(log))).toEqual([["CREATED", 2], ["SUCCESS", 1]]);
    expect(stateCounts(foldChanges(log.slice(0, 3)))).toEqual([["RUNNING", 1]]);
    expect(stateCounts(foldChanges([]))).toEqual([]);
  });
});

describe("changeSubject", () => {
  it("names the execution, a task run with its value, an attempt", () => {
    expect(changeSubject(change(1, "EXECUTION", "RUNNING"))).toBe("the execution");
    expect(changeSubject(change(2, "TASK_RUN", "RUNNING", "a", { value: "eu-west" }))).toBe("t-a (eu-west)");
    expect(changeSubject(change(3, "ATTEMPT", "FAILED", "a", { attemptNumber: 2 }))).toBe("t-a attempt 2");
  });
});

describe("resumeQuery", () => {
  it("is a subscription after that cursor, for that execution", () => {
    const text = resumeQuery("E1", "c2M6MQ");
    expect(text).toContain('stateChanges(executionId: "E1", after: "c2M6MQ")');
    expect(text.split("\n")[1]).toBe("subscription {");
  });
});
