import { describe, expect, it } from "vitest";
import { firstError, logsAsText, visibleLogs, type LogLine } from "./logs";

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
