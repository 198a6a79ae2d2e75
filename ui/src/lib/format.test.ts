import { describe, expect, it } from "vitest";
import { axisLabels, shortId, elapsed, formatDate, formatDuration, formatMetric, tagPairs } from "./format";

describe("formatDuration", () => {
  it("reads at every scale", () => {
    expect(formatDuration(850)).toBe("850ms");
    expect(formatDuration(0.3)).toBe("<1ms");
    expect(formatDuration(4200)).toBe("4.20s");
    expect(formatDuration(42_000)).toBe("42.0s");
    expect(formatDuration(185_000)).toBe("3m 05s");
    expect(formatDuration(7_260_000)).toBe("2h 01m");
    expect(formatDuration(273_600_000)).toBe("3d 4h");
    expect(formatDuration(-1)).toBe("");
  });
});

describe("dates", () => {
  it("formats in UTC with a Z", () => {
    expect(formatDate("2026-11-22T04:58:49.137772Z", true)).toBe("2026-11-22 04:58:49Z");
    expect(formatDate("2026-11-22T04:58:49.137772Z", true, true)).toBe("2026-11-22 04:58:49.137Z");
    expect(formatDate("2026-11-22T04:58:49Z", true, true)).toBe("2026-11-22 04:58:49.000Z");
  });
  it("runs a live duration until now", () => {
    const start = "2026-01-01T00:00:00.000000Z";
    expect(elapsed(start, null, Date.parse(start) + 1500)).toBe(1500);
    expect(elapsed(start, "2026-01-01T00:00:02.000000Z", 0)).toBe(2000);
  });
});

describe("shortId", () => {
  it("keeps the random tail, which differs between ids of the same millisecond", () => {
    const a = "035A9KUwQ3bF2hXkR8mZt1", b = "035A9KUwQ7pLw0cYv4nDs9";
    expect(shortId(a)).toBe("XkR8mZt1");
    expect(shortId(a)).not.toBe(shortId(b));
    expect(a.slice(0, 8)).toBe(b.slice(0, 8));
  });
});

describe("formatMetric", () => {
  it("reads a timer in its unit and a counter with separators", () => {
    expect(formatMetric("TIMER", 0.412)).toBe("412ms");
    expect(formatMetric("TIMER", 0.00042)).toBe("0.42ms");
    expect(formatMetric("TIMER", 1.84)).toBe("1.84s");
    expect(formatMetric("TIMER", 185)).toBe("3m 05s");
    expect(formatMetric("COUNTER", 18234)).toBe("18,234");
    expect(formatMetric("COUNTER", 0.5)).toBe("0.5");
  });
  it("lists tags as key:value pairs", () => {
    expect(tagPairs({ region: "eu", a: "1" })).toEqual([{ key: "a", value: "1" }, { key: "region", value: "eu" }]);
    expect(tagPairs({})).toEqual([]);
    expect(tagPairs(null)).toEqual([]);
  });
});

describe("axisLabels", () => {
  const quarters = [0, 0.25, 0.5, 0.75, 1];
  it("keeps the decimals of a short axis, so no two labels read the same", () => {
    expect(axisLabels(2.1, quarters)).toEqual(["0", "0.53ms", "1.05ms", "1.58ms", "2.10ms"]);
    expect(axisLabels(0.8, quarters)).toEqual(["0", "0.200ms", "0.400ms", "0.600ms", "0.800ms"]);
  });
  it("reads a longer axis as durations", () => {
    expect(axisLabels(1440, quarters)).toEqual(["0", "360ms", "720ms", "1.08s", "1.44s"]);
    expect(axisLabels(40, quarters)).toEqual(["0", "10ms", "20ms", "30ms", "40ms"]);
  });
});
