/** The triggers screen's pure parts: type names, the live countdown, backfill dates. */
import { formatDuration } from "./format";

/** `io.kestra.plugin.core.trigger.Schedule` → `Schedule` (the rest shows in a title). */
export function shortType(type: string): string {
  return type.slice(type.lastIndexOf(".") + 1) || type;
}

/** "in 3m 05s" until a next date, "due" once it is passed (the scheduler fires it soon). */
export function countdown(nextDate: string | null | undefined, now: number): string {
  if (!nextDate) return "";
  const left = Date.parse(nextDate) - now;
  if (!Number.isFinite(left)) return "";
  if (left <= 0) return "due";
  return `in ${formatDuration(Math.ceil(left / 1000) * 1000)}`;
}

/** A `datetime-local` value (the browser's zone, or UTC when the switch is on) → ISO instant. */
export function fromLocalInput(value: string, utc: boolean): string | null {
  if (!value) return null;
  const ms = Date.parse(utc ? `${value}Z` : value);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : null;
}

/** An instant as a `datetime-local` value, in the browser's zone or UTC. */
export function toLocalInput(ms: number, utc: boolean): string {
  const shift = utc ? 0 : new Date(ms).getTimezoneOffset() * 60_000;
  return new Date(ms - shift).toISOString().slice(0, 16);
}

/** What is wrong with a backfill window, or "" (the server checks again). */
export function backfillProblem(start: string | null, end: string | null): string {
  if (!start) return "give a start date";
  if (end && Date.parse(end) <= Date.parse(start)) return "the end must be after the start";
  return "";
}

/** A created execution as the triggers table's stream gives it: `execution` when streamed live
 * (null when replayed after a drop: whether a trigger made it is then unknown). */
export interface CreatedEvent {
  execution?: { trigger?: { id: string } | null } | null;
}

/** Whether a batch of created executions may have changed a trigger (its next date, its last
 * execution): one a trigger created, or one replayed without its execution. */
export function touchesTriggers(events: readonly CreatedEvent[]): boolean {
  return events.some((e) => !e.execution || !!e.execution.trigger);
}
