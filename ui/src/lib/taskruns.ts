/**
 * The task runs page's filter (kept in the URL), its query variables and its live rows: pure
 * functions, so the page itself only wires them to the client.
 */
import type { StateType, TaskRunFilter, TaskRunOrder } from "../gql/graphql";
import { applyEvents, readParams, type LiveRow } from "./executions";
import { isoDurationMs } from "./stats";

export type TaskRunSort = "newest" | "duration";

export interface TaskRunParams {
  namespace: string;
  flow: string;
  task: string;
  states: StateType[];
  range: string;
  sort: TaskRunSort;
}

/** The URL's filter; namespace, flow, states and range are read as the executions list reads them. */
export function readTaskRunParams(params: URLSearchParams): TaskRunParams {
  const { namespace, flow, states, range } = readParams(params);
  return { namespace, flow, task: params.get("task") ?? "", states, range, sort: params.get("sort") === "duration" ? "duration" : "newest" };
}

/** The server filter; a relative time range becomes a start-date lower bound at `now`. */
export function taskRunFilter(p: TaskRunParams, now: number): TaskRunFilter {
  const since = p.range ? new Date(now - isoDurationMs(p.range)).toISOString() : null;
  return {
    namespace: p.namespace || null,
    flowId: p.flow || null,
    taskId: p.task || null,
    state: p.states.length ? p.states : null,
    startDate: since ? { gte: since } : null,
  };
}

export function taskRunOrder(sort: TaskRunSort): TaskRunOrder {
  return sort === "duration" ? { field: "DURATION", direction: "DESC" } : { field: "CREATION", direction: "DESC" };
}

export interface TaskRunEvent {
  taskRunId?: string | null;
  taskId?: string | null;
  state: string;
  date: string;
}

/**
 * Apply TASK_RUN state events to the rows on screen, in place (a row never moves), as the
 * executions list applies its events. Returns the ids of task runs not on screen whose task
 * and state match the filter: candidates for the head of the list.
 */
export function applyTaskRunEvents(rows: ReadonlyMap<string, LiveRow>, events: readonly TaskRunEvent[], p: TaskRunParams): Set<string> {
  const wanted = events.filter((e): e is TaskRunEvent & { taskRunId: string } => !!e.taskRunId);
  const unknown = applyEvents(rows, wanted.map((e) => ({ executionId: e.taskRunId, state: e.state, date: e.date })));
  const matching = new Set<string>();
  for (const e of wanted) {
    if (!unknown.has(e.taskRunId)) continue;
    if ((!p.task || e.taskId === p.task) && (!p.states.length || (p.states as string[]).includes(e.state))) matching.add(e.taskRunId);
  }
  return matching;
}
