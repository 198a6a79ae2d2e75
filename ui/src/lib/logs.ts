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
