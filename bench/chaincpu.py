"""CPU of the engine per chain of 40 Return tasks, one engine, the flow deployed once (#16).

`PYTHONPATH=<tree>/src:<tree> python bench/chaincpu.py [RUNS]`: 10 warm-up chains, then RUNS
(200) chains one after the other; prints the medians of the process's CPU (`process_time`: the
loop and the writer's commits) and of the loop thread's (`thread_time`) per chain, and the wall
per chain. Runs against a tree from before the redesign as well (3d57cf6: `engine.scheduler`).
Under `valgrind --tool=callgrind --separate-threads=yes` with CHAINCPU_CALLGRIND=1 the counts
are zeroed before the measured chains and dumped after them ("measured"): instructions per
thread, the same on every run, where the 2 shared cores' wall and CPU times move 2x."""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

from bench import engine as bench
from tercel.engine import model, service

try:
    from tercel.engine.runtime import scheduler
except ImportError:  # before the redesign
    from tercel.engine import scheduler  # type: ignore[no-redef]

WARM_UP = 10


def _callgrind(command: str) -> None:
    if os.environ.get("CHAINCPU_CALLGRIND"):
        args = ["callgrind_control", command, *(["measured"] if command == "-d" else [])]
        subprocess.run([*args, str(os.getpid())], check=True, capture_output=True)


async def main(runs: int) -> None:
    with tempfile.TemporaryDirectory(prefix="tercel-chaincpu-") as scratch:
        eng = scheduler.Engine(os.path.join(scratch, "bench.db"))
        await eng.start()
        try:
            flow = await service.deploy_flow(eng, bench.chain_flow(40))
            waiting: dict[str, asyncio.Future[None]] = {}

            def listener(_: Any) -> None:
                for execution_id, done in list(waiting.items()):
                    es = eng.active.get(execution_id)
                    if es is None or es.ex.state.current.is_terminated:
                        waiting.pop(execution_id)
                        done.set_result(None)

            eng.listeners.append(listener)

            async def one() -> tuple[float, float]:
                process, thread = time.process_time(), time.thread_time()
                created = await service.create_execution(eng, flow.namespace, flow.id, {})
                assert isinstance(created, model.Execution), created
                waiting[created.id] = asyncio.get_running_loop().create_future()
                done = waiting[created.id]
                listener(None)
                await asyncio.wait_for(done, 600)
                return time.process_time() - process, time.thread_time() - thread

            for _ in range(WARM_UP):
                await one()
            _callgrind("-z")
            began = time.perf_counter()
            figures = [await one() for _ in range(runs)]
            wall = (time.perf_counter() - began) / runs
            _callgrind("-d")
        finally:
            await eng.stop()
    cpu = statistics.median(f[0] for f in figures) * 1000
    loop = statistics.median(f[1] for f in figures) * 1000
    print(f"runs {runs}: cpu {cpu:.3f} ms, loop thread {loop:.3f} ms, wall {wall * 1000:.3f} ms")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 200))
