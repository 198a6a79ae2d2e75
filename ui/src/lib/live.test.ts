import { describe, expect, it } from "vitest";
import { START, acceptNew, resumeAfter, retryDelay } from "./live";

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
