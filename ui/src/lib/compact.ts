/**
 * The execution page's first answer, `Execution.timeline` (every history as `[state, epoch
 * µs]`), read into the shapes the page's views read: pure, unit-tested beside.
 */
import { isTerminal } from "./states";
import type { HistoryEntry, TaskRunNode } from "./timeline";

/** An entry of the compact timeline: its instant in epoch ms, the ISO text made only when read
 * (10,000 task runs have 60,000 entries; the Gantt needs the numbers, a side panel the text of
 * a few). */
export class TimedEntry implements HistoryEntry {
  constructor(
    readonly state: string,
    readonly ms: number,
  ) {}
  get date(): string {
    return new Date(this.ms).toISOString();
  }
}

/** `Execution.timeline` as the server sends it: dates in epoch microseconds. */
export interface CompactTimeline {
  execution: [string, number][];
  taskRuns: {
    id: string;
    taskId: string;
    parentTaskRunId: string | null;
    value: string | null;
    iteration: number | null;
    histories: [string, number][];
    attempts: [string, number][][];
  }[];
}

/** A state as the page shows it: current, start, end (when terminal) and the history. */
export interface StateView {
  current: string;
  startDate: string;
  endDate: string | null;
  histories: HistoryEntry[];
}

export interface TaskRunView extends TaskRunNode {
  parentTaskRunId: string | null;
  value: string | null;
  iteration: number | null;
  state: StateView;
  attempts: { state: StateView }[];
}

/** A StateView whose dates are made when read: 10,000 task runs would format 30,000 of them
 * before the Gantt (which reads none) is drawn. */
class CompactState implements StateView {
  readonly current: string;
  constructor(readonly histories: TimedEntry[]) {
    this.current = histories[histories.length - 1]?.state ?? "CREATED";
  }
  get startDate(): string {
    return this.histories[0]?.date ?? "";
  }
  get endDate(): string | null {
    const last = this.histories[this.histories.length - 1];
    return last && isTerminal(last.state) ? last.date : null;
  }
}

function stateOf(pairs: readonly [string, number][]): StateView {
  const histories = new Array<TimedEntry>(pairs.length);
  for (let i = 0; i < pairs.length; i++) histories[i] = new TimedEntry(pairs[i][0], Math.floor(pairs[i][1] / 1000));
  return new CompactState(histories);
}

/** The execution's state and its task runs (the shape the page's views read) from the compact
 * `Execution.timeline`: what the Gantt draws first, without outputs or metrics. */
export function fromCompact(compact: CompactTimeline): { state: StateView; taskRuns: TaskRunView[] } {
  return {
    state: stateOf(compact.execution),
    taskRuns: compact.taskRuns.map((run) => ({
      id: run.id,
      taskId: run.taskId,
      parentTaskRunId: run.parentTaskRunId,
      value: run.value,
      iteration: run.iteration,
      state: stateOf(run.histories),
      attempts: run.attempts.map((pairs) => ({ state: stateOf(pairs) })),
    })),
  };
}
