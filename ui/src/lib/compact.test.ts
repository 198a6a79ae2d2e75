import { describe, expect, it, vi } from "vitest";
import { fromCompact } from "./compact";
import { emptyTimeline, layoutGantt } from "./timeline";

describe("fromCompact", () => {
  const us = (iso: string) => Date.parse(iso) * 1000 + 123; // microseconds, sub-millisecond part dropped
  it("turns the compact timeline into the states and task runs the page reads", () => {
    const { state, taskRuns } = fromCompact({
      execution: [["CREATED", us("2026-01-01T00:00:00.000Z")], ["RUNNING", us("2026-01-01T00:00:01.000Z")], ["FAILED", us("2026-01-01T00:00:05.500Z")]],
      taskRuns: [
        { id: "t1", taskId: "each", parentTaskRunId: null, value: null, iteration: null, attempts: [],
          histories: [["CREATED", us("2026-01-01T00:00:01.000Z")], ["RUNNING", us("2026-01-01T00:00:02.000Z")]] },
        { id: "t2", taskId: "boom", parentTaskRunId: "t1", value: "a", iteration: 0,
          histories: [["CREATED", us("2026-01-01T00:00:02.000Z")], ["FAILED", us("2026-01-01T00:00:05.000Z")]],
          attempts: [[["RUNNING", us("2026-01-01T00:00:02.000Z")], ["FAILED", us("2026-01-01T00:00:03.000Z")]],
                     [["RUNNING", us("2026-01-01T00:00:04.000Z")], ["FAILED", us("2026-01-01T00:00:05.000Z")]]] },
      ],
    });
    expect([state.current, state.startDate, state.endDate]).toEqual(["FAILED", "2026-01-01T00:00:00.000Z", "2026-01-01T00:00:05.500Z"]);
    expect(state.histories.map((h) => [h.state, h.date])).toEqual([
      ["CREATED", "2026-01-01T00:00:00.000Z"], ["RUNNING", "2026-01-01T00:00:01.000Z"], ["FAILED", "2026-01-01T00:00:05.500Z"],
    ]);
    expect(taskRuns[0].state.endDate).toBeNull(); // still running
    expect(taskRuns[1].attempts.map((a) => a.state.current)).toEqual(["FAILED", "FAILED"]);
    // the Gantt draws them as it drew the taskRunList histories: a tree, two attempt bars
    const rows = layoutGantt(taskRuns, emptyTimeline(), Date.parse("2026-01-01T00:00:06Z"));
    expect(rows.map((r) => [r.id, r.depth, r.state])).toEqual([["t1", 0, "RUNNING"], ["t2", 1, "FAILED"]]);
    expect(rows[1].attempts.map((a) => [a.number, a.state, a.end - a.start])).toEqual([[1, "FAILED", 1000], [2, "FAILED", 1000]]);
    expect(rows[0].running).toEqual({ start: Date.parse("2026-01-01T00:00:02Z"), end: Date.parse("2026-01-01T00:00:06Z") });
  });
});

describe("fromCompact's dates", () => {
  it("are made only when read: reading 1,000 task runs formats none", () => {
    const runs = Array.from({ length: 1000 }, (_, i) => ({
      id: `t${i}`, taskId: "x", parentTaskRunId: null, value: null, iteration: null,
      histories: [["CREATED", 1_000_000 * i], ["SUCCESS", 1_000_000 * i + 5_000]] as [string, number][], attempts: [[["SUCCESS", 1_000_000 * i + 5_000]]] as [string, number][][],
    }));
    const iso = vi.spyOn(Date.prototype, "toISOString");
    const { taskRuns } = fromCompact({ execution: [["CREATED", 0]], taskRuns: runs });
    expect(iso).not.toHaveBeenCalled();
    expect(taskRuns[3].state.startDate).toBe(new Date(3000).toISOString());
    expect(taskRuns[3].state.endDate).toBe(new Date(3005).toISOString());
    iso.mockRestore();
  });
});
