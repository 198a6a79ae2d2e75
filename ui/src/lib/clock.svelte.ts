/** One shared clock for live durations and growing bars: ticks while anything shows one. */
export const clock = $state({ now: Date.now() });

let users = 0;
let timer: ReturnType<typeof setInterval> | undefined;

/** Call from an `$effect`; returns the release function. */
export function useClock(intervalMs = 500): () => void {
  users += 1;
  timer ??= setInterval(() => (clock.now = Date.now()), intervalMs);
  clock.now = Date.now();
  return () => {
    users -= 1;
    if (users === 0) {
      clearInterval(timer);
      timer = undefined;
    }
  };
}
