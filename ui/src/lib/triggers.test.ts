import { describe, expect, it } from "vitest";
import { backfillProblem, countdown, fromLocalInput, shortType, toLocalInput, touchesTriggers } from "./triggers";

describe("triggers", () => {
  it("names a type by its last part", () => {
    expect(shortType("io.kestra.plugin.core.trigger.Schedule")).toBe("Schedule");
    expect(shortType("Webhook")).toBe("Webhook");
  });

  it("counts down to the next date, then says due", () => {
    const now = Date.parse("2026-12-06T10:00:00Z");
    expect(countdown("2026-12-06T10:03:05.000000Z", now)).toBe("in 3m 05s");
    expect(countdown("2026-12-06T10:00:00.400000Z", now)).toBe("in 1.00s");
    expect(countdown("2026-12-06T09:59:59Z", now)).toBe("due");
    expect(countdown(null, now)).toBe("");
  });

  it("reads and writes datetime-local values in UTC or the browser's zone", () => {
    expect(fromLocalInput("2026-12-01T03:00", true)).toBe("2026-12-01T03:00:00.000Z");
    expect(toLocalInput(Date.parse("2026-12-01T03:00:00Z"), true)).toBe("2026-12-01T03:00");
    const ms = Date.parse("2026-12-01T03:00:00Z");
    expect(fromLocalInput(toLocalInput(ms, false), false)).toBe(new Date(ms).toISOString());
    expect(fromLocalInput("", false)).toBeNull();
    expect(fromLocalInput("nonsense", true)).toBeNull();
  });

  it("checks the backfill window", () => {
    expect(backfillProblem(null, null)).toBe("give a start date");
    expect(backfillProblem("2026-12-02T00:00:00Z", "2026-12-01T00:00:00Z")).toBe("the end must be after the start");
    expect(backfillProblem("2026-12-01T00:00:00Z", null)).toBe("");
  });
});

describe("touchesTriggers", () => {
  it("is true for an execution a trigger created, or one replayed without its execution", () => {
    expect(touchesTriggers([{ execution: { trigger: null } }])).toBe(false);
    expect(touchesTriggers([{ execution: { trigger: null } }, { execution: { trigger: { id: "nightly" } } }])).toBe(true);
    expect(touchesTriggers([{ execution: null }])).toBe(true);
    expect(touchesTriggers([])).toBe(false);
  });
});
