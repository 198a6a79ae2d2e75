import { describe, expect, it } from "vitest";
import { Batches, START, acceptNew, resumeAfter, retryDelay, type Timers } from "./live";

const ev = (sequence: number) => ({ cursor: `c${sequence}`, sequence });

describe("resumeAfter", () => {
  it("starts from the initial cursor when nothing was processed", () => {
    expect(resumeAfter(START, "HEAD")).toBe("HEAD");
    expect(resumeAfter(START, null)).toBeNull();
  });
  it("resumes from the last processed cursor", () => {
    expect(resumeAfter({ cursor: "c7", sequence: 7 }, "HEAD")).toBe("c7");
  });
});

describe("acceptNew", () => {
  it("keeps every event of a first batch and moves the position", () => {
    const { fresh, position } = acceptNew(START, [ev(1), ev(2)]);
    expect(fresh.map((e) => e.sequence)).toEqual([1, 2]);
    expect(position).toEqual({ cursor: "c2", sequence: 2 });
  });
  it("drops events replayed after a reconnect", () => {
    const first = acceptNew(START, [ev(1), ev(2), ev(3)]);
    const again = acceptNew(first.position, [ev(2), ev(3), ev(4)]);
    expect(again.fresh.map((e) => e.sequence)).toEqual([4]);
    expect(again.position.cursor).toBe("c4");
  });
  it("drops duplicates inside one batch", () => {
    const { fresh } = acceptNew(START, [ev(1), ev(1), ev(2), ev(2)]);
    expect(fresh.map((e) => e.sequence)).toEqual([1, 2]);
  });
  it("leaves the position alone when nothing is new", () => {
    const position = { cursor: "c5", sequence: 5 };
    expect(acceptNew(position, [ev(3), ev(5)]).position).toBe(position);
  });
  it("a stream split at any point and resumed yields each event exactly once", () => {
    const all = Array.from({ length: 20 }, (_, i) => ev(i + 1));
    for (let cut = 0; cut <= all.length; cut++) {
      const before = acceptNew(START, all.slice(0, cut));
      const overlap = Math.max(0, cut - 3); // a resumed stream may replay a few
      const after = acceptNew(before.position, all.slice(overlap));
      const seen = [...before.fresh, ...after.fresh].map((e) => e.sequence);
      expect(seen).toEqual(all.map((e) => e.sequence));
    }
  });
});

describe("retryDelay", () => {
  it("grows and is capped", () => {
    expect(retryDelay(0)).toBe(250);
    expect(retryDelay(2)).toBe(1000);
    expect(retryDelay(30)).toBe(5000);
  });
});

/** Timers a test runs by hand: `frame()` renders a frame, `elapse(ms)` lets time pass. */
function fakeTimers() {
  let now = 0;
  let next = 1;
  const timers = new Map<number, { at: number; run: () => void }>();
  const frames = new Map<number, () => void>();
  const api: Timers = {
    later: (run, ms) => (timers.set(next, { at: now + ms, run }), next++),
    cancel: (handle) => void timers.delete(handle as number),
    frame: (run) => (frames.set(next, run), next++),
    cancelFrame: (handle) => void frames.delete(handle as number),
  };
  return {
    api,
    frame: () => {
      const due = [...frames.values()];
      frames.clear();
      due.forEach((run) => run());
    },
    elapse: (ms: number) => {
      now += ms;
      for (const [id, t] of [...timers]) if (t.at <= now && timers.delete(id)) t.run();
    },
    pending: () => timers.size + frames.size,
  };
}

describe("Batches", () => {
  it("hands over each event at once without a timing", () => {
    const handed: number[][] = [];
    const batches = new Batches<number>((e) => handed.push(e), {}, fakeTimers().api);
    batches.push(1);
    batches.push(2);
    expect(handed).toEqual([[1], [2]]);
  });
  it("per frame: every event before a frame in one batch at that frame, nothing left scheduled", () => {
    const t = fakeTimers();
    const handed: number[][] = [];
    const batches = new Batches<number>((e) => handed.push(e), { perFrame: true }, t.api);
    [1, 2, 3].forEach((n) => batches.push(n));
    expect(handed).toEqual([]);
    t.frame();
    expect(handed).toEqual([[1, 2, 3]]);
    expect(t.pending()).toBe(0); // the fallback timer went with the batch
    batches.push(4);
    t.frame();
    expect(handed).toEqual([[1, 2, 3], [4]]);
  });
  it("per frame on a hidden page (no frame comes): the batch goes after batchMs", () => {
    const t = fakeTimers();
    const handed: number[][] = [];
    const batches = new Batches<number>((e) => handed.push(e), { perFrame: true, batchMs: 200 }, t.api);
    batches.push(1);
    t.elapse(199);
    expect(handed).toEqual([]);
    t.elapse(1);
    expect(handed).toEqual([[1]]);
    expect(t.pending()).toBe(0);
  });
  it("cancel leaves the events for the next flush", () => {
    const t = fakeTimers();
    const handed: number[][] = [];
    const batches = new Batches<number>((e) => handed.push(e), { batchMs: 10 }, t.api);
    batches.push(1);
    batches.cancel();
    t.elapse(50);
    expect(handed).toEqual([]);
    batches.flush();
    expect(handed).toEqual([[1]]);
  });
});
