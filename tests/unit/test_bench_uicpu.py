"""The UI bench's CPU per process over a window (bench/uicpu.py): a window's deltas come from
the samples around it, and a child process's CPU is seen (a real subprocess burning CPU)."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from bench import uicpu


def test_a_window_takes_the_samples_around_it_per_kind() -> None:
    sampler = uicpu.Sampler()
    sampler.kinds = {1: "renderer", 2: "gpu", 3: ""}
    sampler.samples = [
        (10.0, {1: 1.0, 2: 0.5}),
        (10.1, {1: 1.2, 2: 0.5, 3: 0.0}),
        (10.2, {1: 1.5, 2: 0.7, 3: 0.1}),
        (10.3, {1: 2.0, 2: 0.9, 3: 0.2}),
    ]
    cpu = sampler.per_kind(10.15, 10.2)
    assert cpu == pytest.approx({"window_s": 0.1, "renderer": 0.3, "gpu": 0.2, "other": 0.1})
    per = uicpu.per_execution_ms(cpu, 100)
    assert per["cpu_renderer"] == 3.0 and per["cpu_chromium"] == 5.0


def test_a_window_the_samples_do_not_cover_is_refused() -> None:
    sampler = uicpu.Sampler()
    sampler.samples = [(10.0, {})]
    with pytest.raises(RuntimeError, match="do not cover"):
        sampler.per_kind(9.0, 10.0)


def test_a_child_burning_cpu_is_counted() -> None:
    burn = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.5: pass\n"
    child = None
    try:
        with uicpu.sampling() as sampler:
            time.sleep(0.05)
            start = time.time()
            child = subprocess.Popen([sys.executable, "-c", burn + "time.sleep(60)"])
            deadline = time.monotonic() + 60
            while uicpu._cpu_s(child.pid)[1] < 0.5 and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(uicpu.SCAN_S + 0.3)  # a scan found it after its burn, still alive
            end = time.time()
            time.sleep(0.3)
    finally:
        if child is not None:
            child.kill()
            child.wait()
    cpu = sampler.per_kind(start, end)
    assert sampler.kinds[child.pid] == ""  # not a process of a UI bench run
    assert cpu["other"] >= 0.45
