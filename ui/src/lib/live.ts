/**
 * Cursor resume and de-duplication for the live streams: pure functions, unit-tested.
 *
 * The server's streams (stateChanges, logs) carry an opaque `cursor` and a monotonic `sequence`
 * per event. After a dropped connection the UI resubscribes with `after` = the last cursor it
 * *processed*; events at or below the last processed sequence are dropped, so a replay that
 * overlaps (or a query that raced a subscription) never shows a row twice.
 */

export interface Sequenced {
  cursor: string;
  sequence: number;
}

/** Where a stream stands: the last event the UI processed. */
export interface StreamPosition {
  cursor: string | null;
  sequence: number;
}

export const START: StreamPosition = { cursor: null, sequence: -1 };

/** The `after` argument for a (re)subscription: the last processed cursor, else `initial`. */
export function resumeAfter(position: StreamPosition, initial: string | null): string | null {
  return position.cursor ?? initial;
}

/** The events of `batch` not yet processed, in order, and the position after them. */
export function acceptNew<T extends Sequenced>(
  position: StreamPosition,
  batch: readonly T[],
): { fresh: T[]; position: StreamPosition } {
  const fresh: T[] = [];
  let last = position;
  for (const event of batch) {
    if (event.sequence <= last.sequence) continue;
    fresh.push(event);
    last = { cursor: event.cursor, sequence: event.sequence };
  }
  return { fresh, position: last };
}

/** Exponential back-off for reconnects: 250 ms, 500 ms, 1 s, ... capped at 5 s. */
export function retryDelay(attempt: number): number {
  return Math.min(5000, 250 * 2 ** Math.max(0, attempt));
}
