/**
 * Bulk actions on executions (`bulkExecutions`, docs/semantics.md#bulk): the actions the bar
 * offers, the labels form's parsing, and what a (dry) result means per row and in sum. Pure.
 */
import type { BulkAction, BulkOutcome, StateType } from "../gql/graphql";

export interface ActionDef {
  action: BulkAction;
  label: string;
  /** what the confirmation says would happen to an OK item */
  verb: string;
  danger: boolean;
  /** what the confirmation adds (the single-execution dialogs say the same) */
  note?: string;
}

export const ACTIONS: ActionDef[] = [
  { action: "RESTART", label: "Restart", verb: "restarted", danger: false, note: "Their failed task runs run again (same ids, a new attempt)." },
  { action: "REPLAY", label: "Replay", verb: "replayed", danger: false, note: "Each is copied into a new execution that runs from the start." },
  { action: "RESUME", label: "Resume", verb: "resumed", danger: false },
  { action: "PAUSE", label: "Pause", verb: "paused", danger: false },
  { action: "KILL", label: "Kill", verb: "killed", danger: true, note: "Running task runs are killed (shell processes get SIGTERM, then SIGKILL)." },
  { action: "DELETE", label: "Delete", verb: "deleted", danger: true, note: "Executions, their task runs, logs and state history are deleted. This cannot be undone." },
  { action: "SET_LABELS", label: "Set labels", verb: "relabelled", danger: false },
  { action: "UNQUEUE", label: "Unqueue", verb: "unqueued", danger: false },
  { action: "FORCE_RUN", label: "Force run", verb: "force-run", danger: false },
];

export function actionDef(action: BulkAction): ActionDef {
  return ACTIONS.find((a) => a.action === action)!;
}

export interface BulkItemLike {
  executionId: string;
  outcome: BulkOutcome;
  message?: string | null;
  state?: StateType | null;
}

/** One row's outcome as the list shows it. */
export interface RowResult {
  outcome: BulkOutcome;
  /** why it was skipped, the error, or what came of it ("replayed as …") */
  message: string;
  state: StateType | null;
  /** deleted by this action: the row stays, struck through, until the list reloads */
  gone: boolean;
}

export function resultsById(items: readonly BulkItemLike[], action: BulkAction): Map<string, RowResult> {
  return new Map(items.map((i) => [i.executionId, {
    outcome: i.outcome, message: i.message ?? "", state: i.state ?? null, gone: action === "DELETE" && i.outcome === "OK",
  }]));
}

export interface Summary {
  ok: number;
  skipped: number;
  error: number;
  /** the distinct reasons of skipped and failed items, most frequent first */
  reasons: { outcome: BulkOutcome; message: string; count: number; ids: string[] }[];
}

export function summarize(items: readonly BulkItemLike[]): Summary {
  const counts = { OK: 0, SKIPPED: 0, ERROR: 0 } satisfies Record<BulkOutcome, number>;
  const reasons = new Map<string, Summary["reasons"][number]>();
  for (const item of items) {
    counts[item.outcome] += 1;
    if (item.outcome === "OK") continue;
    const message = item.message || (item.outcome === "ERROR" ? "unknown execution" : "skipped");
    const key = `${item.outcome}\u0000${message}`;
    const reason = reasons.get(key) ?? { outcome: item.outcome, message, count: 0, ids: [] };
    reason.count += 1;
    reason.ids.push(item.executionId);
    reasons.set(key, reason);
  }
  return {
    ok: counts.OK,
    skipped: counts.SKIPPED,
    error: counts.ERROR,
    reasons: [...reasons.values()].sort((a, b) => b.count - a.count || a.message.localeCompare(b.message)),
  };
}

/** The new execution a REPLAY item names ("replayed as <id>"), or null. */
export function replayedAs(message: string): string | null {
  const found = /^replayed as (\S+)$/.exec(message);
  return found ? found[1] : null;
}

/** `OK 3 · skipped 1 · errors 0` as a sentence: "3 restarted, 1 skipped". */
export function sentence(summary: Summary, verb: string, dry: boolean): string {
  const parts = [`${summary.ok} ${dry ? `would be ${verb}` : verb}`];
  if (summary.skipped) parts.push(`${summary.skipped} skipped`);
  if (summary.error) parts.push(`${summary.error} not found`);
  return parts.join(", ");
}

/** The labels form: `key:value` pairs separated by commas or new lines, each with a value. */
export function parseLabelInput(text: string): { labels: { key: string; value: string }[]; problems: string[] } {
  const labels: { key: string; value: string }[] = [];
  const problems: string[] = [];
  for (const part of text.split(/[,\n]/).map((p) => p.trim()).filter(Boolean)) {
    const at = part.indexOf(":");
    const key = at < 0 ? part : part.slice(0, at).trim();
    const value = at < 0 ? "" : part.slice(at + 1).trim();
    if (!key || at < 0 || !value) problems.push(`"${part}": write key:value`);
    else labels.push({ key, value });
  }
  if (!labels.length && !problems.length) problems.push("give at least one key:value label");
  return { labels, problems };
}
