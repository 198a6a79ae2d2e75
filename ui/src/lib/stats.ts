/**
 * Numbers of the dashboard and the flow page: ISO-8601 durations as the server writes them, the
 * per-flow percentile rows and the state totals of a stats series. Pure functions.
 */
import type { Bucket } from "./executions";

const ISO_DURATION = /^(-)?P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

/** `PT1M30.5S` → 90500 ms; NaN for anything that is not an ISO-8601 day-time duration. */
export function isoDurationMs(text: string | null | undefined): number {
  const found = text ? ISO_DURATION.exec(text.trim()) : null;
  if (!found || text!.trim() === "P" || text!.trim().endsWith("T")) return Number.NaN;
  const [, minus, d, h, m, s] = found;
  const ms = ((+(d ?? 0) * 24 + +(h ?? 0)) * 60 + +(m ?? 0)) * 60000 + +(s ?? 0) * 1000;
  return minus ? -ms : ms;
}

export interface FlowStats {
  namespace: string;
  flowId: string;
  ended: number;
  p50: string | null;
  p90: string | null;
  p99: string | null;
}

export interface PercentileRow {
  key: string;
  namespace: string;
  flowId: string;
  ended: number;
  p50: number;
  p90: number;
  p99: number;
}

/** Flows with at least one ended execution, slowest p99 first; durations in ms. */
export function percentileRows(stats: readonly FlowStats[]): PercentileRow[] {
  return stats
    .filter((s) => s.ended > 0 && s.p50 !== null)
    .map((s) => ({
      key: `${s.namespace}/${s.flowId}`,
      namespace: s.namespace,
      flowId: s.flowId,
      ended: s.ended,
      p50: isoDurationMs(s.p50),
      p90: isoDurationMs(s.p90),
      p99: isoDurationMs(s.p99),
    }))
    .sort((a, b) => b.p99 - a.p99 || a.key.localeCompare(b.key));
}

/** The largest p99 of the rows (at least 1 ms): the scale of their bars. */
export function percentileScale(rows: readonly PercentileRow[]): number {
  return Math.max(1, ...rows.map((r) => r.p99).filter(Number.isFinite));
}

/** Executions per state over all buckets, most frequent first; and their sum. */
export function stateTotals(buckets: readonly Bucket[]): { totals: [string, number][]; sum: number } {
  const out = new Map<string, number>();
  let sum = 0;
  for (const bucket of buckets) {
    for (const c of bucket.counts) out.set(c.state, (out.get(c.state) ?? 0) + c.count);
    sum += bucket.total;
  }
  return { totals: [...out].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])), sum };
}

/** Success rate over ended executions (SUCCESS and WARNING count as passed), or null. */
export function successRate(totals: readonly [string, number][]): number | null {
  const ended = new Set(["SUCCESS", "WARNING", "FAILED", "KILLED", "CANCELLED"]);
  let passed = 0;
  let all = 0;
  for (const [state, count] of totals) {
    if (!ended.has(state)) continue;
    all += count;
    if (state === "SUCCESS" || state === "WARNING") passed += count;
  }
  return all ? passed / all : null;
}
