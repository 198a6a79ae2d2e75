import { describe, expect, it } from "vitest";
import { bounds, foldChanges, layoutGantt, momentAt, place, treeOrder, type Change } from "./timeline";

const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString().replace("Z", "000Z");
let seq = 0;
const ch = (entity: Change["entity"], state: string, s: number, taskRunId?: string, attemptNumber?: number, taskId?: string): Change => ({
  sequence: ++seq, cursor: `c${seq}`, entity, state, date: t(s), taskRunId, attemptNumber, taskId: taskId ?? taskRunId,
});

const log: Change[] = [
  ch("EXECUTION", "CREATED", 0),
  ch("EXECUTION", "RUNNING", 1),
  ch("TASK_RUN", "CREATED", 1, "seq"),
  ch("TASK_RUN", "RUNNING", 2, "seq"),
  ch("TASK_RUN", "CREATED", 2, "a"),
  ch("TASK_RUN", "RUNNING", 4, "a"),
  ch("ATTEMPT", "RUNNING", 4, "a", 1),
  ch("ATTEMPT", "FAILED", 5, "a", 1),
  ch("TASK_RUN", "RETRYING", 5, "a"),
  ch("ATTEMPT", "RUNNING", 6, "a", 2),
  ch("ATTEMPT", "SUCCESS", 8, "a", 2),
  ch("TASK_RUN", "SUCCESS", 8, "a"),
  ch("TASK_RUN", "CREATED", 8, "b"),
];
const nodes = [
  { id: "seq", taskId: "seq" },
  { id: "a", taskId: "a", parentTaskRunId: "seq" },
  { id: "b", taskId: "b", parentTaskRunId: "seq" },
];

describe("layoutGantt", () => {
  const now = Date.parse(t(10));
  const rows = layoutGantt(nodes, foldChanges(log), now);

  it("orders the tree depth-first with depths", () => {
    expect(rows.map((r) => [r.id, r.depth])).toEqual([["seq", 0], ["a", 1], ["b", 1]]);
  });
  it("splits a task run into queued and running segments", () => {
    const a = rows[1];
    expect(a.queued).toEqual({ start: Date.parse(t(2)), end: Date.parse(t(4)) });
    expect(a.running).toEqual({ start: Date.parse(t(4)), end: Date.parse(t(8)) });
    expect(a.state).toBe("SUCCESS");
  });
  it("shows every attempt with its own state, retries included", () => {
    expect(rows[1].attempts.map((x) => [x.number, x.state, x.start, x.end])).toEqual([
      [1, "FAILED", Date.parse(t(4)), Date.parse(t(5))],
      [2, "SUCCESS", Date.parse(t(6)), Date.parse(t(8))],
    ]);
  });
  it("grows bars of running task runs until now", () => {
    expect(rows[0].running!.end).toBe(now);
    expect(rows[2].queued).toEqual({ start: Date.parse(t(8)), end: now });
    expect(rows[2].running).toBeNull();
  });
  it("time travel: a prefix of the log shows the state as it was", () => {
    const past = layoutGantt(nodes, foldChanges(log.slice(0, 8)), Date.parse(t(5)));
    expect(past[1].state).toBe("RUNNING");
    expect(past[1].attempts.map((x) => x.state)).toEqual(["FAILED"]);
    expect(past[1].running!.end).toBe(Date.parse(t(5)));
    const early = layoutGantt(nodes, foldChanges(log.slice(0, 4)), Date.parse(t(2)), true);
    expect(early.map((r) => r.id)).toEqual(["seq"]);
    // before the log arrives a row shows the state the query saw
    expect(layoutGantt([{ id: "q", taskId: "q", state: { current: "SUCCESS" } }], foldChanges([]), 0)[0].state).toBe("SUCCESS");
    // and the query's histories, attempts included, until the log replays them
    const node = {
      id: "a", taskId: "a",
      state: { current: "SUCCESS", histories: [{ state: "CREATED", date: t(2) }, { state: "RUNNING", date: t(4) }, { state: "SUCCESS", date: t(8) }] },
      attempts: [{ state: { histories: [{ state: "RUNNING", date: t(4) }, { state: "FAILED", date: t(5) }] } }],
    };
    const [row] = layoutGantt([node], foldChanges([]), now);
    expect(row.running).toEqual({ start: Date.parse(t(4)), end: Date.parse(t(8)) });
    expect(row.attempts.map((x) => [x.number, x.state])).toEqual([[1, "FAILED"]]);
    // a log replay that is behind the query does not hide what the query saw
    const behind = layoutGantt([node], foldChanges([ch("TASK_RUN", "CREATED", 2, "a")]), now);
    expect(behind[0].state).toBe("SUCCESS");
    const ahead = layoutGantt([node], foldChanges(log), now);
    expect(ahead[0].attempts.map((x) => x.state)).toEqual(["FAILED", "SUCCESS"]);
    // time travel shows the log's prefix even where the query saw more (its final states)
    const travelled = layoutGantt([node], foldChanges([ch("TASK_RUN", "CREATED", 2, "a")]), Date.parse(t(3)), true);
    expect(travelled[0].state).toBe("CREATED");
    expect(travelled[0].attempts).toEqual([]);
  });
  it("lays a refetched node out from its own histories (what the query saw is kept per node object, not per id)", () => {
    const first = { id: "a", taskId: "a", state: { current: "RUNNING", histories: [{ state: "CREATED", date: t(2) }, { state: "RUNNING", date: t(4) }] } };
    expect(layoutGantt([first], foldChanges([]), now)[0].running).toEqual({ start: Date.parse(t(4)), end: now });
    const again = { ...first, state: { current: "SUCCESS", histories: [...first.state.histories, { state: "SUCCESS", date: t(8) }] } };
    const [row] = layoutGantt([again], foldChanges([]), now);
    expect([row.state, row.running]).toEqual(["SUCCESS", { start: Date.parse(t(4)), end: Date.parse(t(8)) }]);
    expect(layoutGantt([first], foldChanges([]), now)[0].state).toBe("RUNNING");
  });
  it("axis spans the execution and clamps placement", () => {
    const axis = bounds(foldChanges(log), rows, now);
    expect(axis).toEqual({ start: Date.parse(t(0)), end: now });
    expect(place({ start: axis.start, end: axis.start + 5000 }, axis)).toEqual({ left: 0, width: 50 });
    // a zero-length segment at the very end still shows as a sliver inside the track
    expect(place({ start: axis.end, end: axis.end }, axis)).toEqual({ left: 99.6, width: 0.4 });
  });
});

describe("treeOrder", () => {
  it("puts runs seen only in the log last, and orphans at the root", () => {
    const timeline = foldChanges([ch("TASK_RUN", "CREATED", 0, "z", undefined, "zz")]);
    const order = treeOrder([{ id: "x", taskId: "x", parentTaskRunId: "gone" }], timeline);
    expect(order.map((o) => [o.node.id, o.node.taskId, o.depth])).toEqual([["x", "x", 0], ["z", "zz", 0]]);
  });
  it("puts ForEachItem's _split, _items and _merge under the ForEachItem run, in order", () => {
    const runs = [
      { id: "r1", taskId: "make" },
      { id: "r2", taskId: "each" },
      { id: "r3", taskId: "each_split", parentTaskRunId: "r2" },
      { id: "r4", taskId: "each_items", parentTaskRunId: "r2" },
      { id: "r5", taskId: "each_merge", parentTaskRunId: "r2" },
      { id: "r6", taskId: "after" },
    ];
    const order = treeOrder(runs, foldChanges([]));
    expect(order.map((o) => [o.node.taskId, o.depth])).toEqual([
      ["make", 0], ["each", 0], ["each_split", 1], ["each_items", 1], ["each_merge", 1], ["after", 0],
    ]);
  });
  it("handles 10,000 nested runs without recursion limits", () => {
    const deep = Array.from({ length: 10_000 }, (_, i) => ({ id: `n${i}`, taskId: "t", parentTaskRunId: i ? `n${i - 1}` : null }));
    const order = treeOrder(deep, foldChanges([]));
    expect(order.length).toBe(10_000);
    expect(order[9_999].depth).toBe(9_999);
  });
});

describe("momentAt", () => {
  it("places an instant on the axis, clamped to its ends", () => {
    const axis = { start: 1000, end: 3000 };
    expect(momentAt(1000, axis)).toBe(0);
    expect(momentAt(1500, axis)).toBe(25);
    expect(momentAt(3000, axis)).toBe(100);
    expect(momentAt(500, axis)).toBe(0);
    expect(momentAt(9000, axis)).toBe(100);
    expect(momentAt(1000, { start: 1000, end: 1000 })).toBe(0);
  });
});
