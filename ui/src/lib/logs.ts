/** The Logs tab's filtering and export: pure functions. */
export const LEVELS = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"] as const;

export interface LogLine {
  cursor: string;
  sequence: number;
  taskRunId?: string | null;
  taskId?: string | null;
  attemptNumber?: number | null;
  level: string;
  message: string;
  timestamp: string;
}

export function visibleLogs(lines: readonly LogLine[], minLevel: string, taskRunId: string, attempt: string): LogLine[] {
  const floor = Math.max(0, LEVELS.indexOf(minLevel as (typeof LEVELS)[number]));
  return lines.filter(
    (line) =>
      LEVELS.indexOf(line.level as (typeof LEVELS)[number]) >= floor &&
      (!taskRunId || line.taskRunId === taskRunId) &&
      (!attempt || String(line.attemptNumber ?? "") === attempt),
  );
}

export function firstError(lines: readonly LogLine[]): number {
  return lines.findIndex((line) => line.level === "ERROR");
}

/** The lines as a plain-text file: `timestamp LEVEL [task] message`. */
export function logsAsText(lines: readonly LogLine[]): string {
  return lines
    .map((l) => `${l.timestamp} ${l.level.padEnd(5)} ${l.taskId ? `[${l.taskId}${l.attemptNumber ? `#${l.attemptNumber}` : ""}] ` : ""}${l.message}`)
    .join("\n") + (lines.length ? "\n" : "");
}

/** How many lines of each level, ERROR first (the toolbar says `2 ERROR · 5 WARN · ...`). */
export function levelCounts(lines: readonly LogLine[]): [string, number][] {
  const counts = new Map<string, number>();
  for (const line of lines) counts.set(line.level, (counts.get(line.level) ?? 0) + 1);
  return [...LEVELS].reverse().filter((l) => counts.has(l)).map((l) => [l, counts.get(l)!]);
}

/** Who wrote a line: `aggregate (eu-west) #2`. The iteration's value comes from the task run
 * (`valueOf`): without it, the lines of a ForEach's iterations all read `aggregate #1`. */
export function taskLabel(line: LogLine, valueOf: (taskRunId: string) => string | null | undefined): string {
  if (!line.taskId) return "";
  const value = line.taskRunId ? valueOf(line.taskRunId) : null;
  return `${line.taskId}${value ? ` (${value})` : ""}${line.attemptNumber ? ` #${line.attemptNumber}` : ""}`;
}

/** The Logs tab's filters: a minimum level, a task run and an attempt ("" = all). */
export interface LogFilter {
  level: string;
  taskRun: string;
  attempt: string;
}

/** The filters a URL holds (`?tab=logs&level=WARN&taskRun=…&attempt=2`), so a reload or a
 * shared link shows the same lines; a level or attempt that cannot be one reads as "all". */
export function logFilterFromParams(params: URLSearchParams): LogFilter {
  const level = params.get("level") ?? "";
  const attempt = params.get("attempt") ?? "";
  return {
    level: (LEVELS as readonly string[]).includes(level) ? level : "TRACE",
    taskRun: params.get("taskRun") ?? "",
    attempt: /^[1-9]\d{0,5}$/.test(attempt) ? attempt : "",
  };
}

/** The query parameters for `filter` (null removes one: "all" stays out of the URL). */
export function logFilterParams(filter: LogFilter): Record<string, string | null> {
  return {
    level: filter.level === "TRACE" ? null : filter.level,
    taskRun: filter.taskRun || null,
    attempt: filter.attempt || null,
  };
}
