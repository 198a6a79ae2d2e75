/**
 * The Gantt's visible rows painted on one canvas: names, values, durations, the queued and
 * running segments and the row lines. Scrolling 10,000 rows replaces every visible row each
 * frame; as DOM (a dozen elements and three text nodes per row) that cost style, layout and
 * paint for ~40 rows per frame. The rows stay real elements for clicks, the keyboard, assistive
 * technology and the contract's test hooks (`data-task-run-id`, `data-state`, and the attempt
 * segments with `data-attempt`, still drawn as DOM); only what they show moves here.
 */
import { formatDuration } from "./format";
import { stateFamily } from "./states";
import { place, type GanttRow, type Segment } from "./timeline";

/** Widths the Gantt's name column and row layout use (Gantt.svelte's CSS says the same). */
export const NAME_WIDTH = 300;
const INDENT = 14;
const MAX_DEPTH = 20;

/** The part of the drawing surface the canvas shows, in the list's content coordinates. */
export interface View {
  /** scrollTop of the list, scrollLeft of the horizontal scroller */
  top: number;
  left: number;
  /** the canvas's CSS size */
  width: number;
  height: number;
  /** the list's content width: name column + track */
  contentWidth: number;
  rowHeight: number;
}

/** Colours, read once from the page's CSS variables. */
export interface Palette {
  text: string;
  muted: string;
  line: string;
  queued: string;
  family: (family: string) => string;
  font: string;
}

/** A segment in pixels of the track (the same arithmetic as the DOM's percentages, `place`). */
export function segmentX(segment: Segment, axis: Segment, trackWidth: number): { x: number; w: number } {
  const { left, width } = place(segment, axis);
  return { x: NAME_WIDTH + (left / 100) * trackWidth, w: (width / 100) * trackWidth };
}

/** The rows whose band [i·h, (i+1)·h) meets the view's vertical range. */
export function paintedRange(view: View, count: number): [number, number] {
  const first = Math.max(0, Math.floor(view.top / view.rowHeight));
  const last = Math.min(count, Math.ceil((view.top + view.height) / view.rowHeight));
  return [first, Math.max(first, last)];
}

export const rowDuration = (row: GanttRow): string =>
  row.queued ? formatDuration((row.running ?? row.queued).end - row.queued.start) : "";

/** The subset of CanvasRenderingContext2D that `paintRows` uses (a recording fake in tests). */
export type Painter = Pick<
  CanvasRenderingContext2D,
  "clearRect" | "fillRect" | "fillText" | "measureText" | "save" | "restore" | "beginPath" | "rect" | "clip" | "arc" | "fill"
> & { fillStyle: unknown; font: string; textAlign: CanvasTextAlign; textBaseline: CanvasTextBaseline; globalAlpha: number };

/** Paint rows [first, last) of `rows` on `ctx` (CSS pixels, origin at the view's top-left). */
export function paintRows(ctx: Painter, rows: readonly GanttRow[], axis: Segment, view: View, palette: Palette): void {
  const [first, last] = paintedRange(view, rows.length);
  const trackWidth = Math.max(0, view.contentWidth - NAME_WIDTH);
  const h = view.rowHeight;
  ctx.clearRect(0, 0, view.width, view.height);
  ctx.fillStyle = palette.line;
  for (let i = first; i < last; i++) ctx.fillRect(0, i * h + h - 1 - view.top, view.width, 1);
  paintBars(ctx, rows, axis, view, palette, trackWidth, [first, last]);
  ctx.save();
  ctx.beginPath();
  ctx.rect(0, 0, NAME_WIDTH - view.left, view.height);
  ctx.clip();
  for (let i = first; i < last; i++) paintName(ctx, rows[i], i * h - view.top, view, palette);
  ctx.restore();
}

function paintBars(ctx: Painter, rows: readonly GanttRow[], axis: Segment, view: View, palette: Palette,
  trackWidth: number, [first, last]: [number, number]): void {
  for (let i = first; i < last; i++) {
    const row = rows[i];
    const y = i * view.rowHeight - view.top + 8;
    if (row.queued) {
      const { x, w } = segmentX(row.queued, axis, trackWidth);
      ctx.fillStyle = palette.queued;
      ctx.fillRect(x - view.left, y, w, 14);
    }
    if (row.running) {
      const { x, w } = segmentX(row.running, axis, trackWidth);
      ctx.globalAlpha = 0.28;
      ctx.fillStyle = palette.family(stateFamily(row.state));
      ctx.fillRect(x - view.left, y, w, 14);
      ctx.globalAlpha = 1;
    }
  }
}

const widths = new Map<string, number>();

/** Text widths by font and text: the same few task ids repeat over thousands of rows. */
function textWidth(ctx: Painter, text: string): number {
  const key = `${ctx.font}|${text}`;
  let width = widths.get(key);
  if (width === undefined) {
    width = ctx.measureText(text).width;
    if (widths.size > 5000) widths.clear();
    widths.set(key, width);
  }
  return width;
}

function paintName(ctx: Painter, row: GanttRow, y: number, view: View, palette: Palette): void {
  const mid = y + view.rowHeight / 2;
  let x = 8 + Math.min(row.depth, MAX_DEPTH) * INDENT - view.left;
  ctx.fillStyle = palette.family(stateFamily(row.state));
  ctx.beginPath();
  ctx.arc(x + 4, mid, 4, 0, 2 * Math.PI);
  ctx.fill();
  x += 14;
  ctx.textBaseline = "middle";
  ctx.textAlign = "left";
  ctx.font = `550 14px ${palette.font}`;
  ctx.fillStyle = palette.text;
  ctx.fillText(row.taskId, x, mid);
  x += textWidth(ctx, row.taskId) + 6;
  ctx.font = `11.5px ${palette.font}`;
  ctx.fillStyle = palette.muted;
  const duration = rowDuration(row);
  const end = NAME_WIDTH - 10 - view.left;
  // a long value is squeezed into the room left of the duration rather than drawn over it
  const room = end - textWidth(ctx, duration) - 6 - x;
  if (row.value !== null && room > 0) ctx.fillText(row.value, x, mid, room);
  ctx.textAlign = "right";
  ctx.fillText(duration, end, mid);
}
