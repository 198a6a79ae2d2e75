"""Where the suite's time goes, test by test: a pytest plugin and its summary.

As a plugin (`PYTHONPATH=scripts PYTEST_ADDOPTS="-p pytest_timelog" TIMELOG=/tmp/tl make test`)
it appends one line per test to `$TIMELOG-<worker>.tsv` (`gw0`, `gw1`, or `main` outside
pytest-xdist): node id, start and end (wall clock), and the CPU the test process spent on it
(servers, browsers and other subprocesses not included: `/usr/bin/time -v` counts those). On a
machine other jobs share, the wall times lie and the CPU seconds much less.
`python scripts/pytest_timelog.py /tmp/tl` then prints each worker's span and the files by wall
time (CONTRIBUTING.md#coverage)."""

from __future__ import annotations

import collections
import glob
import os
import sys
import time
from collections.abc import Iterator

import pytest


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    del nextitem
    began, cpu = time.time(), time.process_time()
    try:
        return (yield)
    finally:
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        line = f"{item.nodeid}\t{began:.3f}\t{time.time():.3f}\t{time.process_time() - cpu:.3f}\n"
        with open(f"{os.environ.get('TIMELOG', '/tmp/timelog')}-{worker}.tsv", "a") as out:
            out.write(line)


def summary(prefix: str, shown: int = 40) -> None:
    """Each worker's span and busy time; the files, longest first (wall, CPU, tests, worker)."""
    rows: list[tuple[str, str, float, float, float]] = []
    for path in glob.glob(f"{prefix}-*.tsv"):
        worker = path.rsplit("-", 1)[1].removesuffix(".tsv")
        for line in open(path):
            fields = line.rstrip("\n").split("\t")
            rows.append((worker, fields[0], float(fields[1]), float(fields[2]), float(fields[3])))
    start = min(row[2] for row in rows)
    for worker in sorted({row[0] for row in rows}):
        mine = [row for row in rows if row[0] == worker]
        print(f"{worker}: {len(mine)} tests, from {min(r[2] for r in mine) - start:.0f} s to "
              f"{max(r[3] for r in mine) - start:.0f} s, busy {sum(r[3] - r[2] for r in mine):.0f}"
              f" s, CPU {sum(r[4] for r in mine):.0f} s")  # fmt: skip
    files: dict[str, list[float]] = collections.defaultdict(lambda: [0.0, 0.0, 0.0])
    where: dict[str, str] = {}
    for row in rows:
        name = row[1].split("::")[0]
        files[name][0] += row[3] - row[2]
        files[name][1] += row[4]
        files[name][2] += 1
        where[name] = row[0]
    print(f"{'file':64} {'wall':>7} {'cpu':>6} {'tests':>5} worker")
    for name, (wall, cpu, count) in sorted(files.items(), key=lambda kv: -kv[1][0])[:shown]:
        print(f"{name:64} {wall:7.1f} {cpu:6.1f} {count:5.0f} {where[name]}")


if __name__ == "__main__":
    summary(sys.argv[1])
