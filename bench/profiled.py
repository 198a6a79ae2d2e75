"""`python -m bench.profiled OUT -m tercel server ...`: `tercel.cli.main()` under cProfile timed
by the main thread's CPU clock (`time.thread_time`), so a process descheduled on a busy machine
does not charge its wait to the function it was in (the default wall clock does: a socket write
that wakes the reader on 2 shared cores looked 0.4 ms long). Threads (the writer's commits) are
not profiled. The stats are written to OUT when the server returns (SIGTERM)."""

from __future__ import annotations

import cProfile
import sys
import time


def main() -> None:
    out, dash_m, module, *args = sys.argv[1:]
    if (dash_m, module) != ("-m", "tercel"):
        raise SystemExit("usage: python -m bench.profiled OUT -m tercel ARGS...")
    from tercel import cli

    profile = cProfile.Profile(time.thread_time)
    profile.enable()
    try:
        cli.main(args)
    finally:
        profile.disable()
        profile.dump_stats(out)


if __name__ == "__main__":
    main()
