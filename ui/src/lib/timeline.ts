/**
 * An execution's state histories folded from its state-change log, and the Gantt rows laid out
 * from them: pure functions (the Gantt, the side panel and time travel all use them).
 *
 * Time travel is the same fold over a prefix of the log: the Gantt "as it was" after change k
 * is `layoutGantt(tree, foldChanges(log.slice(0, k + 1)), dateOf(log[k]))`.
 */
import { isTerminal } from "./states";
import { toMillis } from "./format";
import { TimedEntry } from "./compact";

export interface HistoryEntry {
  readonly state: string;
  readonly date: string;
}

export interface Change {
  sequence: number;
  cursor: string;
  entity: "EXECUTION" | "TASK_RUN" | "ATTEMPT";
  taskRunId?: string | null;
  attemptNumber?: number | null;
  taskId?: string | null;
  value?: string | null;
  state: string;
  date: string;
}

export interface TaskRunTimeline {
  taskId: string;
  value: string | null;
  history: HistoryEntry[];
  attempts: Map<number, HistoryEntry[]>;
}

export interface Timeline {
  execution: HistoryEntry[];
  taskRuns: Map<string, TaskRunTimeline>;
  /** task run ids in the order their first entry was logged */
  order: string[];
}

export function emptyTimeline(): Timeline {
  return { execution: [], taskRuns: new Map(), order: [] };
}

/** Add one change to `timeline` (in place: the live page applies thousands of them). */
export function applyChange(timeline: Timeline, change: Change): void {
  const entry = { state: change.state, date: change.date };
  if (change.entity === "EXECUTION" || !change.taskRunId) {
    timeline.execution.push(entry);
    return;
  }
  let run = timeline.taskRuns.get(change.taskRunId);
  if (!run) {
    run = { taskId: change.taskId ?? "?", value: change.value ?? null, history: [], attempts: new Map() };
    timeline.taskRuns.set(change.taskRunId, run);
    timeline.order.push(change.taskRunId);
  }
  if (change.entity === "TASK_RUN") {
    run.history.push(entry);
    if (change.taskId) run.taskId = change.taskId;
    return;
  }
  const number = change.attemptNumber ?? 1;
  const attempt = run.attempts.get(number) ?? [];
  attempt.push(entry);
  run.attempts.set(number, attempt);
}

export function foldChanges(changes: readonly Change[]): Timeline {
  const timeline = emptyTimeline();
  for (const change of changes) applyChange(timeline, change);
  return timeline;
}

/** Structure of a task run, from the `execution` query (the log has no parent links). */
export interface TaskRunNode {
  id: string;
  taskId: string;
  parentTaskRunId?: string | null;
  value?: string | null;
  iteration?: number | null;
  /** what the query saw: shown until the log has an entry for this run (a long log takes a
   * while to replay; the page draws the query's histories first) */
  state?: { current: string; histories?: readonly HistoryEntry[] } | null;
  attempts?: readonly { state: { histories?: readonly HistoryEntry[] } }[] | null;
}

function entries(run: TaskRunTimeline | undefined): number {
  let count = run?.history.length ?? 0;
  for (const attempt of run?.attempts.values() ?? []) count += attempt.length;
  return count;
}

const queriedRuns = new WeakMap<TaskRunNode, TaskRunTimeline | null>();

/** What the query saw of a task run, as a timeline (made once per node: a live page lays the
 * same 10,000 nodes out again every tick; the histories are shared, not copied). */
function queried(node: TaskRunNode): TaskRunTimeline | undefined {
  let found = queriedRuns.get(node);
  if (found === undefined) {
    const history = node.state?.histories;
    found = null;
    if (history?.length) {
      const attempts = new Map<number, HistoryEntry[]>();
      (node.attempts ?? []).forEach((a, i) => a.state.histories?.length && attempts.set(i + 1, a.state.histories as HistoryEntry[]));
      found = { taskId: node.taskId, value: node.value ?? null, history: history as HistoryEntry[], attempts };
    }
    queriedRuns.set(node, found);
  }
  return found ?? undefined;
}

/** Task runs depth-first, children under their parent in creation order; runs seen only in
 * the log (structure not fetched yet) come last, at depth 0. */
export function treeOrder(
  nodes: readonly TaskRunNode[],
  timeline: Timeline,
): { node: TaskRunNode; depth: number }[] {
  const known = new Set(nodes.map((n) => n.id));
  const children = new Map<string | null, TaskRunNode[]>();
  for (const node of nodes) {
    const parent = node.parentTaskRunId && known.has(node.parentTaskRunId) ? node.parentTaskRunId : null;
    const list = children.get(parent) ?? [];
    list.push(node);
    children.set(parent, list);
  }
  const out: { node: TaskRunNode; depth: number }[] = [];
  const stack: { node: TaskRunNode; depth: number }[] = (children.get(null) ?? [])
    .map((node) => ({ node, depth: 0 }))
    .reverse();
  while (stack.length) {
    const item = stack.pop()!;
    out.push(item);
    const kids = children.get(item.node.id) ?? [];
    for (let i = kids.length - 1; i >= 0; i--) stack.push({ node: kids[i], depth: item.depth + 1 });
  }
  for (const id of timeline.order) {
    if (!known.has(id)) {
      const run = timeline.taskRuns.get(id)!;
      out.push({ node: { id, taskId: run.taskId, value: run.value }, depth: 0 });
    }
  }
  return out;
}

export interface Segment {
  start: number;
  end: number;
}

export interface AttemptBar extends Segment {
  number: number;
  state: string;
}

export interface GanttRow {
  id: string;
  taskId: string;
  value: string | null;
  depth: number;
  state: string;
  /** CREATED → first RUNNING (or → now while nothing ran yet) */
  queued: Segment | null;
  /** first RUNNING → terminal (or → now) */
  running: Segment | null;
  attempts: AttemptBar[];
}

function span(history: readonly HistoryEntry[], now: number): Segment | null {
  if (!history.length) return null;
  const last = history[history.length - 1];
  const end = isTerminal(last.state) ? millisOf(last) : now;
  const start = millisOf(history[0]);
  return { start, end: Math.max(end, start) };
}

export function layoutRow(
  node: TaskRunNode,
  depth: number,
  logged: TaskRunTimeline | undefined,
  now: number,
  onlyLogged = false,
): GanttRow {
  // both are prefixes of the same append-only history: the longer one is the more recent
  // (time travel shows the log's prefix: what the query saw is the end of the story)
  const fromQuery = onlyLogged ? undefined : queried(node);
  const run = fromQuery && entries(fromQuery) > entries(logged) ? fromQuery : logged;
  const history = run?.history ?? [];
  const whole = span(history, now);
  const firstRun = history.find((h) => h.state === "RUNNING");
  const runStart = firstRun ? millisOf(firstRun) : null;
  const attempts: AttemptBar[] = [];
  for (const [number, entries] of [...(run?.attempts ?? new Map<number, HistoryEntry[]>())].sort((a, b) => a[0] - b[0])) {
    const segment = span(entries, now)!;
    attempts.push({ number, state: entries[entries.length - 1].state, ...segment });
  }
  return {
    id: node.id,
    taskId: node.taskId,
    value: node.value ?? run?.value ?? null,
    depth,
    state: history.length ? history[history.length - 1].state : (node.state?.current ?? "CREATED"),
    queued: whole ? { start: whole.start, end: runStart ?? whole.end } : null,
    running: whole && runStart !== null ? { start: runStart, end: whole.end } : null,
    attempts,
  };
}

/** `onlyLogged` (time travel): only the timeline's entries, and only the task runs it has. */
export function layoutGantt(nodes: readonly TaskRunNode[], timeline: Timeline, now: number, onlyLogged = false): GanttRow[] {
  const shown = onlyLogged ? nodes.filter((n) => timeline.taskRuns.has(n.id)) : nodes;
  return treeOrder(shown, timeline).map(({ node, depth }) =>
    layoutRow(node, depth, timeline.taskRuns.get(node.id), now, onlyLogged),
  );
}

/** The time axis: from the execution's first entry to its end (or now). */
export function bounds(timeline: Timeline, rows: readonly GanttRow[], now: number): Segment {
  const whole = span(timeline.execution, now);
  let start = whole?.start ?? Infinity;
  let end = whole?.end ?? -Infinity;
  for (const row of rows) {
    if (row.queued) {
      start = Math.min(start, row.queued.start);
      end = Math.max(end, row.running?.end ?? row.queued.end);
    }
  }
  if (!Number.isFinite(start)) return { start: now, end: now + 1 };
  return { start, end: Math.max(end, start + 1) };
}

/** A segment as left/width percentages of the axis (at least a sliver, so it shows). */
export function place(segment: Segment, axis: Segment): { left: number; width: number } {
  const total = axis.end - axis.start;
  const left = Math.max(0, Math.min(99.6, ((segment.start - axis.start) / total) * 100));
  const width = ((segment.end - segment.start) / total) * 100;
  return { left, width: Math.max(0.4, Math.min(100 - left, width)) };
}

/** An instant as a percentage of the axis, clamped to it: where Time travel draws its moment. */
export function momentAt(moment: number, axis: Segment): number {
  const total = axis.end - axis.start;
  return total > 0 ? Math.max(0, Math.min(100, ((moment - axis.start) / total) * 100)) : 0;
}

/** An entry's instant in epoch ms (the compact timeline's have it; the log's are ISO text). */
function millisOf(entry: HistoryEntry): number {
  return entry instanceof TimedEntry ? entry.ms : toMillis(entry.date);
}
