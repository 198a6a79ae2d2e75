/**
 * The state-change log as the execution page's header, History and Time travel tabs read it:
 * pure functions, unit-tested beside.
 */
import { ALL_STATES } from "./states";
import type { Change, Timeline } from "./timeline";

/** Of two views of one append-only history (the log streamed so far, the query's answer), the
 * one that saw more. A terminal execution's log replays from its first entry when History or
 * Time travel is opened: read alone, it would take the header back through CREATED and
 * RUNNING (a Kill button on a FAILED execution) until the replay catches up. */
export function freshest<T>(log: readonly T[], query: readonly T[]): readonly T[] {
  return log.length >= query.length ? log : query;
}

/** Milliseconds after the execution's start as `+0.052s`, `+12.400s`, `+3m 05.120s`. */
export function offset(ms: number): string {
  if (!Number.isFinite(ms)) return "";
  const sign = ms < 0 ? "-" : "+";
  const abs = Math.abs(ms);
  const minutes = Math.floor(abs / 60_000);
  const seconds = ((abs % 60_000) / 1000).toFixed(3);
  return minutes ? `${sign}${minutes}m ${seconds.padStart(6, "0")}s` : `${sign}${seconds}s`;
}

/** The position in a log of `length` entries that `?change=N` (1-based, as the page shows it)
 * names: the last entry when it is missing or out of range; -1 for an empty log. */
export function travelPosition(param: string | null, length: number): number {
  if (length === 0) return -1;
  const n = Number(param);
  return param && Number.isInteger(n) && n >= 1 && n <= length ? n - 1 : length - 1;
}

/** How many task runs were in each state at that moment, in the order of `ALL_STATES`. */
export function stateCounts(timeline: Timeline): [string, number][] {
  const counts = new Map<string, number>();
  for (const run of timeline.taskRuns.values()) {
    const state = run.history.at(-1)?.state;
    if (state) counts.set(state, (counts.get(state) ?? 0) + 1);
  }
  return ALL_STATES.filter((s) => counts.has(s)).map((s) => [s, counts.get(s)!]);
}

/** What a change is about: `the execution`, `fetch`, `aggregate (eu-west) attempt 2`. */
export function changeSubject(change: Change): string {
  if (change.entity === "EXECUTION" || !change.taskId) return "the execution";
  const run = `${change.taskId}${change.value ? ` (${change.value})` : ""}`;
  return change.entity === "ATTEMPT" ? `${run} attempt ${change.attemptNumber ?? 1}` : run;
}

/** A subscription that resumes the log right after `cursor`: what a cursor is for. */
export function resumeQuery(executionId: string, cursor: string): string {
  return `# the state-change log right after this entry (a client that stopped here resumes so)
subscription {
  stateChanges(executionId: "${executionId}", after: "${cursor}") {
    cursor sequence entity taskId value attemptNumber state date
  }
}
`;
}
