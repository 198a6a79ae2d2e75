/**
 * A live list of executions (the executions list, a flow's executions): its first page, then its
 * stream from HEAD. A created execution comes with its row on its first entry (the stream's
 * snapshot, no query); a row on screen changes state in place; an execution the list has no row
 * for (created before the stream, or replayed after a drop: replayed entries carry no row) makes
 * one look at the head (`KeysetList.refreshHead`), which pages until a row it knows, so nothing
 * is missed or repeated.
 */
import { untrack } from "svelte";
import type { ExecutionRowFragment, StateChangeFilter, StateType } from "../gql/graphql";
import { live } from "./client.svelte";
import { ListChangesSubscription } from "./documents";
import { routeEvents, type ListEvent } from "./executions";
import type { KeysetList } from "./pager.svelte";
import { isTerminal } from "./states";

type Row = ExecutionRowFragment;

/** after the first page, a look at the head once the live stream is registered */
const SETTLE_MS = 1000;
/** executions remembered per map (latest states, created ones outside the filter) */
const REMEMBERED = 5000;

export interface LiveExecutions {
  list: KeysetList<Row>;
  /** the stream's filter: what the server narrows (the same as the list's query does) */
  filter: () => StateChangeFilter;
  /** whether a created execution belongs to the list (what the stream does not narrow) */
  member: (row: Row) => boolean;
  /** new rows go on top (else behind the list's banner, `KeysetList.fresh`) */
  atTop: () => boolean;
  /** after each batch of events */
  onEvents?: () => void;
}

/** Load the list's first page and follow its stream; returns the function that stops it. */
export function followExecutions(options: LiveExecutions): () => void {
  const { list } = options;
  /** the last state the stream gave each execution: a row fetched later may be older */
  const latest = new Map<string, { state: string; date: string }>();
  /** created executions the filter leaves out (for now: a later state may match) */
  const outside = new Map<string, Row>();

  const place = (added: Row[], fromStream = false) => {
    for (const node of added) {
      const seen = latest.get(node.id);
      if (seen && !isTerminal(node.state.current) && seen.state !== node.state.current) {
        node.state.current = seen.state as StateType;
        if (isTerminal(seen.state)) node.state.endDate = seen.date;
      }
    }
    list.addNew(added, options.atTop(), fromStream);
  };
  // The stream starts at HEAD, registered on the server some time after the first page was
  // read: an execution created in between is in neither, and if it ends at once no event will
  // name it. One look at the head once the stream is surely there finds it, unless an event
  // already made one (the stream was there then).
  let looked = false;
  let settle: ReturnType<typeof setTimeout> | undefined;
  const look = () => {
    looked = true;
    void list.refreshHead((added) => place(added));
  };
  untrack(() => void list.load(true).then(() => (settle = setTimeout(() => looked || look(), SETTLE_MS))));

  const stop = live({
    document: ListChangesSubscription,
    initial: "HEAD",
    variables: (after) => ({ after, filter: options.filter() }),
    pick: (data: { stateChanges: ListEvent<Row> & { cursor: string; sequence: number } }) => data.stateChanges,
    perFrame: true,
    // dropped before any event: what changed meanwhile has no cursor to resume from
    onGap: () => void list.load(true),
    onEvents: (events) => {
      for (const e of events) {
        latest.set(e.executionId, e);
        if (latest.size > REMEMBERED) latest.delete(latest.keys().next().value!);
      }
      const { added, unknown } = routeEvents(list.byId(), events, options.member, outside, REMEMBERED);
      if (added.length) place(added, true);
      if (unknown.size) look();
      options.onEvents?.();
    },
  });
  return () => {
    stop();
    clearTimeout(settle);
  };
}

let top = true;
let watching = false;

/** Whether the page is scrolled to its top, kept by a scroll listener: reading `scrollY`
 * while rows are being added would lay the page out again at once (a forced layout, which
 * with a thousand rows cost more than the rest of the page's script at 100 executions/s). */
export function pageAtTop(): boolean {
  if (!watching) {
    watching = true;
    top = window.scrollY < 40;
    window.addEventListener("scroll", () => (top = window.scrollY < 40), { passive: true });
  }
  return top;
}
