import { describe, expect, it } from "vitest";
import { NAME_WIDTH, paintRows, paintedRange, segmentX, type Painter, type Palette, type View } from "./ganttPaint";
import type { GanttRow } from "./timeline";

/** A 2D context that records what it was asked to draw (text widths: 7 px per character). */
function recorder() {
  const calls: { op: string; args: unknown[]; fill: unknown; alpha: number; font: string; align: string }[] = [];
  const ctx = {
    fillStyle: "" as unknown, font: "", textAlign: "left" as CanvasTextAlign, textBaseline: "alphabetic" as CanvasTextBaseline, globalAlpha: 1,
    measureText: (text: string) => ({ width: text.length * 7 }) as TextMetrics,
  } as unknown as Painter;
  for (const op of ["clearRect", "fillRect", "fillText", "save", "restore", "beginPath", "rect", "clip", "arc", "fill"]) {
    (ctx as unknown as Record<string, unknown>)[op] = (...args: unknown[]) =>
      calls.push({ op, args, fill: ctx.fillStyle, alpha: ctx.globalAlpha, font: ctx.font, align: ctx.textAlign });
  }
  return { ctx, calls };
}

const palette: Palette = {
  text: "text", muted: "muted", line: "line", queued: "queued", font: "sans",
  family: (family) => `fill-${family}`,
};

function row(i: number, extra: Partial<GanttRow> = {}): GanttRow {
  return {
    id: `r${i}`, taskId: `task${i}`, value: null, depth: 0, state: "SUCCESS",
    queued: { start: 0, end: 10 }, running: { start: 10, end: 50 }, attempts: [], ...extra,
  };
}

const axis = { start: 0, end: 100 };
const rows = Array.from({ length: 100 }, (_, i) => row(i));
const view = (over: Partial<View> = {}): View =>
  ({ top: 0, left: 0, width: 1300, height: 90, contentWidth: 1300, rowHeight: 30, ...over });

describe("paintedRange", () => {
  it("is the rows whose band meets the view, no more", () => {
    expect(paintedRange(view({ top: 45, height: 60 }), 100)).toEqual([1, 4]);
    expect(paintedRange(view({ top: 60, height: 60 }), 100)).toEqual([2, 4]);
    expect(paintedRange(view({ top: 2950, height: 300 }), 100)).toEqual([98, 100]);
    expect(paintedRange(view({ top: 0, height: 300 }), 0)).toEqual([0, 0]);
  });
});

describe("segmentX", () => {
  it("places a segment on the track right of the name column, as the DOM's percentages do", () => {
    expect(segmentX({ start: 25, end: 75 }, axis, 1000)).toEqual({ x: NAME_WIDTH + 250, w: 500 });
    // a zero-length segment still shows (place's sliver: 0.4 %)
    expect(segmentX({ start: 100, end: 100 }, axis, 1000).w).toBeCloseTo(4);
  });
});

describe("paintRows", () => {
  it("draws the queued and running bars of the rows in view only, at their scrolled position", () => {
    const { ctx, calls } = recorder();
    paintRows(ctx, rows, axis, view({ top: 45, height: 60 }), palette);
    const queued = calls.filter((c) => c.op === "fillRect" && c.fill === "queued");
    expect(queued.map((c) => c.args)).toEqual([1, 2, 3].map((i) => [NAME_WIDTH, i * 30 - 45 + 8, 100, 14]));
    const running = calls.filter((c) => c.op === "fillRect" && c.fill === "fill-ok");
    expect(running.map((c) => [c.args, c.alpha])).toEqual([1, 2, 3].map((i) => [[NAME_WIDTH + 100, i * 30 - 45 + 8, 400, 14], 0.28]));
    expect(calls.filter((c) => c.op === "fillText" && c.font.startsWith("550")).map((c) => c.args[0])).toEqual(["task1", "task2", "task3"]);
  });

  it("follows the zoom scroller: everything moves left by its scrollLeft", () => {
    const { ctx, calls } = recorder();
    const zoomed = view({ left: 500, width: 1300, contentWidth: 4300 }); // track 4000 px wide
    paintRows(ctx, rows, axis, zoomed, palette);
    const queued = calls.find((c) => c.op === "fillRect" && c.fill === "queued")!;
    expect(queued.args).toEqual([NAME_WIDTH - 500, 8, 400, 14]);
    const name = calls.find((c) => c.op === "fillText")!;
    expect(name.args).toEqual(["task0", 8 + 14 - 500, 15]);
  });

  it("indents by depth, right-aligns the duration and squeezes a long value before it", () => {
    const { ctx, calls } = recorder();
    const deep = [row(0, { depth: 2, value: "v".repeat(80), queued: { start: 0, end: 1500 }, running: null })];
    paintRows(ctx, deep, { start: 0, end: 2000 }, view(), palette);
    const texts = calls.filter((c) => c.op === "fillText");
    const [task, value, duration] = texts;
    expect(task.args.slice(0, 2)).toEqual(["task0", 8 + 2 * 14 + 14]);
    expect(duration.args.slice(0, 2)).toEqual(["1.50s", NAME_WIDTH - 10]);
    expect(duration.align).toBe("right");
    const valueStart = 8 + 2 * 14 + 14 + 5 * 7 + 6;
    expect(value.args).toEqual(["v".repeat(80), valueStart, 15, NAME_WIDTH - 10 - 5 * 7 - 6 - valueStart]);
  });

  it("clears the whole canvas and draws one line under each row in view", () => {
    const { ctx, calls } = recorder();
    paintRows(ctx, rows, axis, view({ top: 10, height: 50 }), palette);
    expect(calls[0]).toMatchObject({ op: "clearRect", args: [0, 0, 1300, 50] });
    expect(calls.filter((c) => c.op === "fillRect" && c.fill === "line").map((c) => c.args[1])).toEqual([19, 49]);
  });
});
