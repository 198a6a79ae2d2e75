import { describe, expect, it } from "vitest";
import { firstError, levelCounts, logFilterFromParams, logFilterParams, logsAsText, taskLabel, visibleLogs, type LogLine } from "./logs";

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

describe("log filters in the URL", () => {
  it("reads the level, task run and attempt a URL holds", () => {
    const params = new URLSearchParams("tab=logs&level=WARN&taskRun=tr1&attempt=2");
    expect(logFilterFromParams(params)).toEqual({ level: "WARN", taskRun: "tr1", attempt: "2" });
    expect(logFilterFromParams(new URLSearchParams("tab=logs"))).toEqual({ level: "TRACE", taskRun: "", attempt: "" });
  });
  it("reads a level or attempt that cannot be one as all", () => {
    const params = new URLSearchParams("level=LOUD&attempt=-1");
    expect(logFilterFromParams(params)).toEqual({ level: "TRACE", taskRun: "", attempt: "" });
    expect(logFilterFromParams(new URLSearchParams("attempt=0")).attempt).toBe("");
  });
  it("writes only what narrows the lines, and round-trips", () => {
    expect(logFilterParams({ level: "TRACE", taskRun: "", attempt: "" })).toEqual({ level: null, taskRun: null, attempt: null });
    const filter = { level: "ERROR", taskRun: "tr9", attempt: "3" };
    const written = logFilterParams(filter) as Record<string, string>;
    expect(logFilterFromParams(new URLSearchParams(written))).toEqual(filter);
  });
});
