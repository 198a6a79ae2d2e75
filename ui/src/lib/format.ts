/** Dates and durations as people read them; the UTC switch lives here too. */

let utc = typeof localStorage !== "undefined" && localStorage.getItem("tercel.utc") === "1";
const listeners = new Set<() => void>();

export function useUtc(): boolean {
  return utc;
}

export function setUtc(value: boolean): void {
  utc = value;
  localStorage.setItem("tercel.utc", value ? "1" : "0");
  for (const listener of listeners) listener();
}

export function onUtcChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function toMillis(iso: string): number {
  return Date.parse(iso);
}

/** `2026-11-22 04:58:49` in the browser's zone, or in UTC when the switch is on; `precise`
 * adds the milliseconds (`04:58:49.137`): log lines and state changes of one second are many,
 * and their order is what they tell. */
export function formatDate(iso: string | null | undefined, inUtc = utc, precise = false): string {
  if (!iso) return "";
  const date = new Date(toMillis(iso));
  const pad = (n: number) => String(n).padStart(2, "0");
  const [y, mo, d, h, mi, s] = inUtc
    ? [date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate(), date.getUTCHours(),
       date.getUTCMinutes(), date.getUTCSeconds()]
    : [date.getFullYear(), date.getMonth() + 1, date.getDate(), date.getHours(),
       date.getMinutes(), date.getSeconds()];
  const ms = precise ? `.${String(date.getUTCMilliseconds()).padStart(3, "0")}` : "";
  return `${y}-${pad(mo)}-${pad(d)} ${pad(h)}:${pad(mi)}:${pad(s)}${ms}${inUtc ? "Z" : ""}`;
}

/** A duration in milliseconds as `850ms`, `4.2s`, `3m 05s`, `2h 01m`, `3d 4h`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "";
  if (ms < 1) return "<1ms";
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 2 : 1)}s`;
  const s = Math.floor(seconds % 60);
  const m = Math.floor(seconds / 60) % 60;
  const h = Math.floor(seconds / 3600) % 24;
  const d = Math.floor(seconds / 86400);
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${String(m).padStart(2, "0")}m`;
  return `${m}m ${String(s).padStart(2, "0")}s`;
}

/** The labels of a time axis `total` ms long at `fractions` of it. Under 20 ms whole
 * milliseconds would read `<1ms`, `1ms`, `2ms`, `2ms`: there they keep their decimals. */
export function axisLabels(total: number, fractions: readonly number[]): string[] {
  const digits = total < 20 ? (total < 2 ? 3 : 2) : -1;
  return fractions.map((f) => {
    if (f === 0) return "0";
    return digits < 0 ? formatDuration(f * total) : `${(f * total).toFixed(digits)}ms`;
  });
}

/** Live duration from a start and an optional end; without an end it runs until `now`. */
export function elapsed(start: string, end: string | null | undefined, now: number): number {
  return (end ? toMillis(end) : now) - toMillis(start);
}

/** An id as lists show it: its last 8 characters. Ids are time-ordered (ids.py: 48 bits of
 * milliseconds first), so executions created together share their first 8 characters and only
 * the random tail tells them apart; the `q` filter finds an id by any part of it. */
export function shortId(id: string): string {
  return id.slice(-8);
}

/** A metric's value as read: a TIMER (seconds) as `412ms`, `0.42ms`, `1.84s`; a COUNTER with
 * thousands separators (`18,234`). The table showed `1840.000 ms` and `18234`. */
export function formatMetric(type: string, value: number): string {
  if (type.toUpperCase() === "TIMER") {
    const ms = value * 1000;
    return ms < 1000 ? `${Number(ms.toFixed(ms < 10 ? 2 : 0))}ms` : formatDuration(ms);
  }
  return value.toLocaleString("en-US", { maximumFractionDigits: 3 });
}

/** Metric tags (a JSON map of strings) as `key:value` pairs, in key order. */
export function tagPairs(tags: unknown): { key: string; value: string }[] {
  if (!tags || typeof tags !== "object" || Array.isArray(tags)) return [];
  return Object.entries(tags as Record<string, unknown>)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, value]) => ({ key, value: String(value) }));
}
