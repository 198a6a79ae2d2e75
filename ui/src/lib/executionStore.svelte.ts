/**
 * One execution, live: its structure and outputs from the `execution` query, its state
 * histories from the state-change log (streamed from the execution's first entry, resumed from
 * the last cursor after a drop). The log is kept whole: the History tab lists it, time travel
 * folds a prefix of it.
 */
import { live, request } from "./client.svelte";
import { StateChangesSubscription } from "./documents";
import { applyChange, emptyTimeline, type Change, type HistoryEntry, type Timeline } from "./timeline";
import { freshest } from "./history";
import { fromCompact, type CompactTimeline, type StateView, type TaskRunView } from "./compact";
import { isTerminal } from "./states";
import { markOnce } from "./marks";
import { ExecutionDetailsQuery, ExecutionQuery } from "../screens/execution";
import type { ExecutionDetailsQuery as DetailsResult, ExecutionPageQuery } from "../gql/graphql";

let early: { id: string; answer: Promise<ExecutionPageQuery> } | null = null;

/** Send an execution's first query now, before the app mounts (main.ts, on a full page load of
 * its page): the server builds the answer while the page's components are created. The
 * execution's store takes it (once) instead of sending its own. */
export function prefetchExecution(id: string): void {
  markOnce("query-sent");
  const answer = request(ExecutionQuery, { id });
  answer.catch(() => undefined); // the store that takes it reports a failure
  early = { id, answer };
}

function takeEarly(id: string): Promise<ExecutionPageQuery> | null {
  const found = early?.id === id ? early.answer : null;
  early = null;
  return found;
}

type Head = Omit<NonNullable<ExecutionPageQuery["execution"]>, "timeline">;
/** The execution as the page reads it: the header, its state and its task runs' structure and
 * histories (from the compact `timeline`). */
export type ExecutionData = Head & { state: StateView; taskRunList: TaskRunView[] };
/** A task run's outputs and its attempts' metrics, loaded on demand. */
export type TaskRunDetails = NonNullable<DetailsResult["execution"]>["taskRunList"][number];

export class ExecutionStore {
  execution: ExecutionData | null = $state.raw(null);
  /** outputs and metrics by task run id: null until a view asks for them (`needDetails`) */
  details: Map<string, TaskRunDetails> | null = $state.raw(null);
  missing = $state(false);
  error = $state("");
  /** bumped on every applied batch: derive from it, the log and timeline are plain objects */
  version = $state(0);
  /** the stream completed: the execution is terminal and every entry was received */
  complete = $state(false);
  readonly changes: Change[] = [];
  timeline: Timeline = emptyTimeline();
  private stop: (() => void) | null = null;
  private refetchTimer: ReturnType<typeof setTimeout> | undefined;
  private lastCursor: string | null = null;
  private known = new Set<string>();
  private disposed = false;
  private logWanted = false;
  /** the first query is out: `needLog` waits for it (start subscribes then) */
  private refetching = true;
  private detailsWanted = false;

  constructor(readonly id: string) {}

  /** The query first, alone: its histories draw the whole Gantt, and a log replayed at the same
   * time (five entries per task run) would compete with it for the server and this page. The log
   * then follows a running execution; a terminal one's log is streamed only when a view asks
   * for it (`needLog`: History, Time travel), since the query already holds its final states. */
  async start(): Promise<void> {
    await this.refetch();
    if (this.disposed) return;
    if (this.execution && isTerminal(this.execution.state.current) && !this.logWanted) return;
    this.needLog();
  }

  /** Stream the state-change log from its start, once. */
  needLog(): void {
    this.logWanted = true;
    if (this.stop || this.disposed || this.refetching) return;
    this.subscribe(null);
  }

  /** Outputs and metrics: fetched once asked for, and again after each refetch while wanted. */
  needDetails(): void {
    if (this.detailsWanted) return;
    this.detailsWanted = true;
    void this.fetchDetails();
  }

  private async fetchDetails(): Promise<void> {
    try {
      const data = await request(ExecutionDetailsQuery, { id: this.id });
      if (data.execution) this.details = new Map(data.execution.taskRunList.map((t) => [t.id, t]));
    } catch (e) {
      this.error = (e as Error).message;
    }
  }

  /** After an action (restart, resume) the execution runs again: stream on from where we are. */
  follow(): void {
    this.complete = false;
    this.subscribe(this.lastCursor);
    this.scheduleRefetch(50);
  }

  dispose(): void {
    this.disposed = true;
    this.stop?.();
    clearTimeout(this.refetchTimer);
  }

  private subscribe(after: string | null): void {
    this.stop?.();
    this.stop = live({
      document: StateChangesSubscription,
      initial: after,
      variables: (cursor) => ({ executionId: this.id, after: cursor }),
      pick: (data: { stateChanges: Change }) => data.stateChanges,
      // one re-layout per batch: 10,000 rows cost a few ms, so batch a replaying log coarsely
      batchMs: 120,
      onEvents: (events) => this.apply(events),
      onComplete: () => {
        this.complete = true;
        this.scheduleRefetch(0);
      },
    });
  }

  private apply(events: Change[]): void {
    const known = this.known;
    // outputs and metrics come with the query: fetch again when a run ends, unless the query
    // already saw the execution terminal (a replayed log changes nothing then)
    const settled = isTerminal(this.execution?.state.current ?? "RUNNING");
    let unknown = false;
    let ended = false;
    for (const event of events) {
      this.changes.push(event);
      applyChange(this.timeline, event);
      if (event.taskRunId && !known.has(event.taskRunId)) unknown = true;
      if (!settled && event.entity === "TASK_RUN" && isTerminal(event.state)) ended = true;
    }
    this.lastCursor = events[events.length - 1].cursor;
    this.version += 1;
    if (unknown || ended) this.scheduleRefetch(this.changes.length > 5000 ? 2000 : 300);
  }

  scheduleRefetch(delay: number): void {
    if (this.refetchTimer !== undefined && delay > 0) return;
    clearTimeout(this.refetchTimer);
    this.refetchTimer = setTimeout(() => {
      this.refetchTimer = undefined;
      void this.refetch();
    }, delay);
  }

  async refetch(): Promise<void> {
    try {
      markOnce("query-sent");
      const sent = takeEarly(this.id) ?? request(ExecutionQuery, { id: this.id });
      const data = await sent.finally(() => (this.refetching = false));
      markOnce("query-parsed");
      if (!data.execution) this.missing = true;
      else {
        const { timeline, ...head } = data.execution;
        const { state, taskRuns } = fromCompact(timeline as CompactTimeline);
        markOnce("compact-read");
        this.execution = { ...head, state, taskRunList: taskRuns };
        this.known = new Set(taskRuns.map((t) => t.id));
        if (this.detailsWanted) void this.fetchDetails();
      }
      this.error = "";
    } catch (e) {
      this.error = (e as Error).message;
    }
  }

  /** The execution's own state history: the log's once it has seen as much as the last query
   * (it is then fresher), the query's while the log is still replaying. */
  get executionHistory(): readonly HistoryEntry[] {
    void this.version;
    return freshest(this.timeline.execution, this.execution?.state.histories ?? []);
  }

  /** The execution's current state, from the freshest history. */
  get state(): string {
    return this.executionHistory.at(-1)?.state ?? this.execution?.state.current ?? "CREATED";
  }
}
