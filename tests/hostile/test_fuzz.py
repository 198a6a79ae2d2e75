"""The hostile-value fuzz (issue #12): random text (lone surrogates, NUL, control and bidi
characters, 4-byte characters, long text), huge numbers, deep JSON, hostile expressions and
binary into every flow field, execution input and label, resume input, query, mutation and
subscription argument, and raw HTTP bodies; against one real `tercel server`, with no 5xx, no
INTERNAL_SERVER_ERROR, no engine death, no stall and no stuck execution.

`make crash` runs it (it is `slow`). Cases come from a seed; `TERCEL_FUZZ_SEED` (default: a
new one, printed), `TERCEL_FUZZ_CASES` (default 2000) and `TERCEL_FUZZ_ONLY` (a comma-separated
list of case numbers: run just those, to reproduce a finding) change the run; the bounds are
`TERCEL_FUZZ_SLOW` (3 s per answer) and `TERCEL_FUZZ_SETTLE` (10 s per execution)."""

from __future__ import annotations

import os
import random
import re
import time
from collections import Counter
from pathlib import Path

import pytest
from tests.hostile.fuzz_client import Bounds
from tests.hostile.fuzz_runner import Fuzz

#: findings after which the run stops (each engine death costs a restart)
MAX_FINDINGS = int(os.environ.get("TERCEL_FUZZ_MAX_FINDINGS", "60"))


def _settings() -> tuple[int, list[int], Bounds]:
    seed = int(os.environ.get("TERCEL_FUZZ_SEED") or random.SystemRandom().randrange(10**9))
    only = os.environ.get("TERCEL_FUZZ_ONLY", "")
    count = int(os.environ.get("TERCEL_FUZZ_CASES", "2000"))
    indexes = [int(n) for n in only.split(",") if n.strip()] or list(range(count))
    bounds = Bounds(
        slow=float(os.environ.get("TERCEL_FUZZ_SLOW", "3")),
        settle=float(os.environ.get("TERCEL_FUZZ_SETTLE", "10")),
    )
    return seed, indexes, bounds


def _operation(request: str) -> str:
    """The first field a request's document selects (`executions`, `deployFlow`, ...)."""
    if request.startswith(("ws ", "GET ", "POST ", "PUT ", "DELETE ", "PATCH ", "OPTIONS ")):
        return " ".join(request.split(" ", 2)[:2]).rstrip(":")[:40]
    found = re.search(r"\{\s*(\w+)\s*[({]", request)
    return found.group(1) if found else "?"


def _summary(fuzz: Fuzz, ran: int, took: float) -> str:
    families = Counter(f"{f.symptom} [{f.kind}] {_operation(f.request)}" for f in fuzz.findings)
    lines = [
        f"fuzz seed {fuzz.seed}: {ran} cases in {took:.1f}s, {len(fuzz.findings)} findings, "
        f"{fuzz.starts} server start(s)",
        *(f"  {count:4d} x {family}" for family, count in families.most_common()),
        *(f"  long-running, killed: {note}" for note in fuzz.kill_notes),
        f"  slowest answer {fuzz.client.slowest[0]:.2f}s: {fuzz.client.slowest[1][:300]}",
    ]
    return "\n".join(lines)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_fuzz(tmp_path: Path) -> None:
    seed, indexes, bounds = _settings()
    print(f"\nfuzz seed {seed} ({len(indexes)} cases): TERCEL_FUZZ_SEED={seed} to repeat")
    fuzz = Fuzz(tmp_path, seed, bounds)
    fuzz.start()
    began = time.monotonic()
    ran = 0
    try:
        for index in indexes:
            fuzz.run_case(index)
            ran += 1
            if len(fuzz.findings) >= MAX_FINDINGS:
                break
        fuzz.final_sweep()
    finally:
        status = fuzz.close()
    took = time.monotonic() - began
    report = _summary(fuzz, ran, took)
    print(report)
    for finding in fuzz.findings:
        print(finding.report(seed))
    assert not fuzz.findings, report + "\n" + fuzz.findings[0].report(seed)
    assert status == 0, f"the server exited with {status} on SIGTERM"
