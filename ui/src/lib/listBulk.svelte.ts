/**
 * The executions list's bulk state: the selection, the filter's count for "every match", and
 * the last action's result per row and in sum. One per filter (the list makes a new one when
 * the filter changes), so a count or a result of another filter never lands here.
 */
import type { BulkAction, BulkExecutionsMutation, ExecutionFilter, ExecutionRowFragment } from "../gql/graphql";
import { request } from "./client.svelte";
import { ExecutionsQuery } from "./documents";
import { MatchingCountQuery } from "../screens/bulk";
import { actionDef, resultsById, sentence, summarize, type RowResult, type Summary } from "./bulk";
import { EMPTY, pickedCount, type Selection } from "./selection";

export class ListBulk {
  selection: Selection = $state(EMPTY);
  total: number | null = $state(null);
  results: Map<string, RowResult> | null = $state(null);
  outcome: { label: string; text: string; summary: Summary } | null = $state(null);
  #counting = false;

  constructor(private readonly filter: ExecutionFilter) {}

  get picked(): number | null {
    return pickedCount(this.selection, this.total);
  }

  /** A new selection; the first non-empty one asks the server how many match the filter. */
  select(selection: Selection): void {
    this.selection = selection;
    const some = selection.kind === "matching" || selection.ids.size > 0;
    if (some && this.total === null && !this.#counting) void this.#count();
  }

  async #count(): Promise<void> {
    this.#counting = true;
    try {
      this.total = (await request(MatchingCountQuery, { filter: this.filter })).executions.totalCount;
    } catch {
      this.total = null;
    } finally {
      this.#counting = false;
    }
  }

  /** An action's answer: the result per row and in sum; `rows` are read again (below). */
  done(action: BulkAction, answer: BulkExecutionsMutation["bulkExecutions"], rows: ReadonlyMap<string, ExecutionRowFragment>): void {
    const def = actionDef(action);
    const summary = summarize(answer.items);
    this.results = resultsById(answer.items, action);
    this.outcome = { label: def.label, text: sentence(summary, def.verb, false), summary };
    this.selection = EMPTY;
    this.total = null; // counted again at the next selection (a delete or relabel changed it)
    void this.#refresh(new Set(answer.items.filter((i) => i.outcome === "OK").map((i) => i.executionId)), rows);
  }

  dismiss(): void {
    this.results = null;
    this.outcome = null;
  }

  /** States stream in, labels and attempt numbers do not: read the acted-on rows again. */
  async #refresh(ids: Set<string>, rows: ReadonlyMap<string, ExecutionRowFragment>): Promise<void> {
    if (![...ids].some((id) => rows.has(id))) return;
    try {
      const data = await request(ExecutionsQuery, { filter: this.filter, first: Math.min(rows.size + 50, 500) });
      for (const { node } of data.executions.edges) {
        const row = ids.has(node.id) ? rows.get(node.id) : undefined;
        if (row) Object.assign(row, { labels: node.labels, metadata: node.metadata });
      }
    } catch {
      // the rows keep what they showed; their states still stream in
    }
  }
}
