import { describe, expect, it } from "vitest";
import { firstError, levelCounts, logsAsText, taskLabel, visibleLogs, type LogLine } from "./logs";

const line = (sequence: number, level: string, taskRunId: string | null, attemptNumber: number | null = 1): LogLine => ({
  cursor: `c${sequence}`, sequence, level, taskRunId, taskId: taskRunId && `t-${taskRunId}`, attemptNumber, message: `m${sequence}`, timestamp: `2026-01-01T00:00:0${sequence}Z`,
});
const lines = [line(1, "DEBUG", "a"), line(2, "INFO", "a"), line(3, "ERROR", "b", 2), line(4, "WARN", null, null)];

describe("visibleLogs", () => {
  it("filters by minimum level, task run and attempt", () => {
    expect(visibleLogs(lines, "INFO", "", "").map((l) => l.sequence)).toEqual([2, 3, 4]);
    expect(visibleLogs(lines, "TRACE", "a", "").map((l) => l.sequence)).toEqual([1, 2]);
    expect(visibleLogs(lines, "TRACE", "", "2").map((l) => l.sequence)).toEqual([3]);
  });
  it("finds the first error and exports text", () => {
    expect(firstError(lines)).toBe(2);
    expect(firstError([])).toBe(-1);
    expect(logsAsText([lines[2], lines[3]])).toBe("2026-01-01T00:00:03Z ERROR [t-b#2] m3\n2026-01-01T00:00:04Z WARN  m4\n");
  });
});

describe("levelCounts", () => {
  it("counts lines per level, the worst first", () => {
    expect(levelCounts(lines)).toEqual([["ERROR", 1], ["WARN", 1], ["INFO", 1], ["DEBUG", 1]]);
    expect(levelCounts([lines[1], lines[1]])).toEqual([["INFO", 2]]);
    expect(levelCounts([])).toEqual([]);
  });
});

describe("taskLabel", () => {
  it("names the task run's iteration and the attempt", () => {
    const values: Record<string, string> = { b: "eu-west" };
    expect(taskLabel(lines[2], (id) => values[id])).toBe("t-b (eu-west) #2");
    expect(taskLabel(lines[0], (id) => values[id])).toBe("t-a #1");
    expect(taskLabel(lines[3], (id) => values[id])).toBe("");
  });
});
