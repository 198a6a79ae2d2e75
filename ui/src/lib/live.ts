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

/** How a stream's events are handed over: each at once, or in batches at most `batchMs`
 * apart, or once per animation frame (`perFrame`), just before it renders: a screen whose every
 * event changes the DOM then changes it once per frame. A hidden page renders no frame: there
 * the batch goes after `batchMs` (100 ms if not given). */
export interface BatchTiming {
  batchMs?: number;
  perFrame?: boolean;
}

/** The timers a `Batches` uses (the browser's by default; a test's fakes). */
export interface Timers {
  later: (run: () => void, ms: number) => unknown;
  cancel: (handle: unknown) => void;
  frame: (run: () => void) => unknown;
  cancelFrame: (handle: unknown) => void;
}

const BROWSER_TIMERS: Timers = {
  later: (run, ms) => setTimeout(run, ms),
  cancel: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  frame: (run) => requestAnimationFrame(run),
  cancelFrame: (handle) => cancelAnimationFrame(handle as number),
};

/** Events waiting to be handed over, in arrival order, per `BatchTiming`. */
export class Batches<E> {
  #pending: E[] = [];
  #timer: unknown = undefined;
  #frame: unknown = undefined;
  #hand: (events: E[]) => void;
  #timing: BatchTiming;
  #timers: Timers;

  constructor(hand: (events: E[]) => void, timing: BatchTiming, timers: Timers = BROWSER_TIMERS) {
    this.#hand = hand;
    this.#timing = timing;
    this.#timers = timers;
  }

  push(event: E): void {
    this.#pending.push(event);
    const { batchMs, perFrame } = this.#timing;
    if (!batchMs && !perFrame) return this.flush();
    if (perFrame) this.#frame ??= this.#timers.frame(() => this.flush());
    this.#timer ??= this.#timers.later(() => this.flush(), batchMs || 100);
  }

  /** Hand over what waits now (and cancel what was scheduled). */
  flush(): void {
    this.cancel();
    const events = this.#pending;
    this.#pending = [];
    if (events.length) this.#hand(events);
  }

  /** Nothing scheduled any more (what waits stays until the next `flush`). */
  cancel(): void {
    if (this.#timer !== undefined) this.#timers.cancel(this.#timer);
    if (this.#frame !== undefined) this.#timers.cancelFrame(this.#frame);
    this.#timer = this.#frame = undefined;
  }
}
