/**
 * The executions list's filter (kept in the URL) and its live membership: pure functions.
 */
import type { ExecutionFilter, StateChangeFilter, StateType } from "../gql/graphql";
import { ALL_STATES, isTerminal } from "./states";

export const RANGES: { value: string; label: string; bucket: string }[] = [
  { value: "PT1H", label: "Last hour", bucket: "PT5M" },
  { value: "PT24H", label: "Last 24 hours", bucket: "PT1H" },
  { value: "PT168H", label: "Last 7 days", bucket: "PT6H" },
  { value: "PT720H", label: "Last 30 days", bucket: "PT24H" },
];

export interface ListParams {
  states: StateType[];
  namespace: string;
  flow: string;
  q: string;
  range: string;
  /** an absolute window on the start date (ISO instants), instead of `range` */
  from: string;
  to: string;
  labels: { key: string; value: string | null }[];
}

function instant(text: string | null): string {
  const ms = text ? Date.parse(text) : NaN;
  return Number.isFinite(ms) ? new Date(ms).toISOString() : "";
}

/** `k:v,k2` → label filters (a bare key matches any value). */
export function parseLabels(text: string): { key: string; value: string | null }[] {
  return text
    .split(",")
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const at = part.indexOf(":");
      return at < 0 ? { key: part, value: null } : { key: part.slice(0, at).trim(), value: part.slice(at + 1).trim() };
    })
    .filter((label) => label.key);
}

export function readParams(params: URLSearchParams): ListParams {
  const states = (params.get("state") ?? "")
    .split(",")
    .map((s) => s.trim().toUpperCase())
    .filter((s): s is StateType => (ALL_STATES as string[]).includes(s));
  return {
    states,
    namespace: params.get("namespace") ?? "",
    flow: params.get("flow") ?? "",
    q: params.get("q") ?? "",
    range: RANGES.some((r) => r.value === params.get("range")) ? params.get("range")! : "",
    from: instant(params.get("from")),
    to: instant(params.get("to")),
    labels: parseLabels(params.get("labels") ?? ""),
  };
}

export function executionFilter(p: ListParams): ExecutionFilter {
  return {
    state: p.states.length ? p.states : null,
    namespace: p.namespace || null,
    flowId: p.flow || null,
    q: p.q || null,
    timeRange: p.from || p.to ? null : p.range || null,
    startDate: p.from || p.to ? { gte: p.from || null, lt: p.to || null } : null,
    labels: p.labels.length ? p.labels : null,
  };
}

const BUCKETS = ["PT5M", "PT1H", "PT6H", "PT24H"];

/** The stats chart's window: the absolute one, or the relative range (24 hours by default). */
export function statsWindow(p: ListParams, now: number): { start: number; end: number; bucket: string; label: string } {
  if (p.from || p.to) {
    const end = p.to ? Date.parse(p.to) : now;
    const start = p.from ? Date.parse(p.from) : end - 86_400_000;
    const bucket = BUCKETS.find((b) => (end - start) / durationMs(b) <= 72) ?? "PT24H";
    return { start, end, bucket, label: "Chosen period" };
  }
  const range = RANGES.find((r) => r.value === (p.range || "PT24H"))!;
  return { start: now - durationMs(range.value), end: now, bucket: range.bucket, label: range.label };
}

/** The live stream's filter: what the server can narrow (state and text are applied by the
 * list itself, since a row must also follow states the filter does not show). */
export function liveFilter(p: ListParams): StateChangeFilter {
  return {
    namespace: p.namespace || null,
    flowId: p.flow || null,
    labels: p.labels.length ? p.labels : null,
    entities: ["EXECUTION"],
  };
}

export interface Bucket {
  start: string;
  total: number;
  counts: { state: string; count: number }[];
}

const UNIT_MS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000 };

/** `PT5M`, `PT24H` → milliseconds (the range and bucket sizes the list uses). */
export function durationMs(iso: string): number {
  const match = /^PT(\d+)([HMS])$/.exec(iso);
  return match ? Number(match[1]) * UNIT_MS[match[2]] : NaN;
}

/** Every bucket of the range, the empty ones too, so the chart's x axis is time. */
export function fillBuckets(buckets: readonly Bucket[], start: number, end: number, bucket: string): Bucket[] {
  const size = durationMs(bucket);
  const first = Math.floor(start / size) + 1;
  const last = Math.floor(Math.max(start, end - 1) / size);
  const bySlot = new Map(buckets.map((b) => [Math.floor(Date.parse(b.start) / size), b]));
  const out: Bucket[] = [];
  for (let slot = first; slot <= last; slot++) {
    out.push(bySlot.get(slot) ?? { start: new Date(slot * size).toISOString(), total: 0, counts: [] });
  }
  return out;
}

export interface LiveRow {
  id: string;
  state: { current: string; startDate: string; endDate?: string | null };
}

export interface ExecutionEvent {
  executionId: string;
  state: string;
  date: string;
}

/**
 * Apply execution state events to the rows on screen, in place (a row changes state, it never
 * moves). Returns the ids of executions not on screen: candidates for the "N new" banner.
 */
export function applyEvents(rows: ReadonlyMap<string, LiveRow>, events: readonly ExecutionEvent[]): Set<string> {
  const unknown = new Set<string>();
  for (const event of events) {
    const row = rows.get(event.executionId);
    if (row) applyEvent(row, event);
    else unknown.add(event.executionId);
  }
  return unknown;
}

/** One state event on its row, in place. */
export function applyEvent(row: LiveRow, event: ExecutionEvent): void {
  row.state.current = event.state;
  row.state.endDate = isTerminal(event.state) ? event.date : null;
}

/** What the list shows of an execution and tests for membership. */
export interface MemberRow extends LiveRow {
  namespace: string;
  flowId: string;
}

/**
 * Whether a row belongs to the list's filter, as of now: the parts the live stream does not
 * narrow on the server (states, text, start window). Namespace, flow and labels are narrowed by
 * the stream itself (`liveFilter`), exactly as the `executions` query does.
 */
export function matchesList(row: MemberRow, p: ListParams, now: number): boolean {
  if (p.states.length && !(p.states as string[]).includes(row.state.current)) return false;
  const q = p.q.toLowerCase();
  if (q && ![row.id, row.namespace, row.flowId].some((text) => text.toLowerCase().includes(q))) return false;
  const start = Date.parse(row.state.startDate);
  if (p.from || p.to) {
    if (p.from && start < Date.parse(p.from)) return false;
    if (p.to && start >= Date.parse(p.to)) return false;
  } else if (p.range && start < now - durationMs(p.range)) return false;
  return true;
}

/** A stream event of the list: its first entry carries the created execution (when live). */
export interface ListEvent<R> extends ExecutionEvent {
  execution?: R | null;
}

/**
 * Route the list's stream events, in order: a row on screen changes state in place; a created
 * execution (the stream's snapshot) that matches becomes a new row, with the later events of the
 * batch applied; one that does not match is kept among `outside` (bounded) and joins the list
 * the moment a later state makes it match. `unknown`: executions none of these know (created
 * before the stream, or seen only after a reconnect, whose replayed entries carry no snapshot):
 * for the look at the head. `added` is newest first, as the head is.
 */
export function routeEvents<R extends MemberRow>(
  rows: ReadonlyMap<string, R>,
  events: readonly ListEvent<R>[],
  member: (row: R) => boolean,
  outside: Map<string, R>,
  outsideLimit = 5000,
): { added: R[]; unknown: Set<string> } {
  const added = new Map<string, R>();
  const unknown = new Set<string>();
  for (const event of events) {
    const id = event.executionId;
    const shown = rows.get(id) ?? added.get(id);
    if (shown) {
      applyEvent(shown, event);
      continue;
    }
    const candidate = event.execution ?? outside.get(id);
    if (!candidate) {
      unknown.add(id);
      continue;
    }
    applyEvent(candidate, event);
    if (member(candidate)) {
      outside.delete(id);
      added.set(id, candidate);
    } else {
      outside.set(id, candidate);
      if (outside.size > outsideLimit) outside.delete(outside.keys().next().value!);
    }
  }
  return { added: [...added.values()].reverse(), unknown };
}

/** Whether an execution is one of the flow's own (a flow page's list): the stream's namespace
 * filter takes sub-namespaces in too, the flow page's query does not (`namespaceEquals`). */
export function inFlow(row: MemberRow, namespace: string, flowId: string): boolean {
  return row.namespace === namespace && row.flowId === flowId;
}
