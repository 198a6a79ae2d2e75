"""CPU of the processes a UI bench run started, per kind (chromium's renderer, browser, GPU and
network processes, Playwright's node driver, the tercel server, the second subscriber, the
bench's own Python), over a window of the run: what an execution of the open list's stream
costs each of them. CPU seconds per execution move less with the load of other processes than
latencies do (they still move: a page that renders fewer frames spends less per execution), so
builds are compared by it alternating in one sitting (bench/ui_ab.py --stream).

Read from /proc/PID/stat (utime + stime, which count a process's ended threads too) every
`PERIOD_S` by a thread; the processes below this one are found by a full /proc scan every
`SCAN_S` only (a scan of every process at 20/s cost this process ~2 ms of CPU per streamed
execution, more than Playwright's node driver)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PERIOD_S = 0.1
SCAN_S = 2.0
TICKS = os.sysconf("SC_CLK_TCK")
CHROMIUM_KINDS = ("renderer", "gpu", "network", "browser", "chromium")


def _cpu_s(pid: int) -> tuple[int, float]:
    """(parent pid, CPU seconds) of `pid`."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rfind(")") + 2 :].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / TICKS


def _descendants(root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                children.setdefault(_cpu_s(int(entry))[0], []).append(int(entry))
            except OSError:
                continue
    found, todo = set(), [root]
    while todo:
        pid = todo.pop()
        found.add(pid)
        todo += children.get(pid, [])
    return found


def kind(pid: int) -> str:
    """What `pid` is in a UI bench run ("" while it cannot be told yet: chromium's wrapper
    script and its zygote's fresh children rewrite their command lines)."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_text().split("\0")
    except OSError:
        return ""
    text = " ".join(argv)
    program = text.split(" ", 1)[0]  # chromium's children write their arguments as one string
    if pid == os.getpid():
        return "bench"
    if program.endswith(("/chromium", "/chrome")):
        for flag, name in (("renderer", "renderer"), ("gpu-process", "gpu"), ("zygote", "")):
            if f"--type={flag}" in text:
                return name
        if "NetworkService" in text:
            return "network"
        return "chromium" if "--type=" in text else "browser"
    if program.endswith("/node"):
        return "node_driver"
    if "bench.uiwatch" in text:
        return "uiwatch"
    return "server" if "tercel" in text and "server" in argv else ""


class Sampler:
    """(time, {pid: CPU s}) every PERIOD_S while it runs; `per_kind` the deltas of a window."""

    def __init__(self) -> None:
        self.samples: list[tuple[float, dict[int, float]]] = []
        self.kinds: dict[int, str] = {}
        self._stop = threading.Event()

    def run(self) -> None:
        pids: set[int] = set()
        scanned = 0.0
        while not self._stop.is_set():
            now = time.time()
            if now - scanned > SCAN_S:
                pids, scanned = _descendants(os.getpid()), now
                for pid in pids:
                    self.kinds[pid] = self.kinds.get(pid) or kind(pid)
            cpu = {}
            for pid in pids:
                try:
                    cpu[pid] = _cpu_s(pid)[1]
                except OSError:
                    continue
            self.samples.append((now, cpu))
            self._stop.wait(PERIOD_S)

    def stop(self) -> None:
        self._stop.set()

    def per_kind(self, start: float, end: float) -> dict[str, float]:
        """CPU seconds per kind from the last sample at or before `start` (epoch s) to the
        first at or after `end`, and the window's length ("window_s")."""
        before = [s for s in self.samples if s[0] <= start]
        after = [s for s in self.samples if s[0] >= end]
        if not before or not after:
            raise RuntimeError("the CPU samples do not cover the window")
        (t0, first), (t1, last) = before[-1], after[0]
        out: dict[str, float] = {"window_s": t1 - t0}
        for pid, cpu in last.items():
            name = self.kinds.get(pid) or "other"
            out[name] = out.get(name, 0.0) + cpu - first.get(pid, 0.0)
        return out


@contextmanager
def sampling() -> Iterator[Sampler]:
    """A `Sampler` running in a thread while the block runs."""
    sampler = Sampler()
    thread = threading.Thread(target=sampler.run, daemon=True)
    thread.start()
    try:
        yield sampler
    finally:
        sampler.stop()
        thread.join()


def per_execution_ms(cpu: dict[str, float], executions: int) -> dict[str, float]:
    """`Sampler.per_kind` as ms per execution, chromium's processes summed too."""
    out = {f"cpu_{k}": round(v * 1000 / executions, 2) for k, v in cpu.items() if k != "window_s"}
    chromium = sum(v for k, v in cpu.items() if k in CHROMIUM_KINDS)
    out["cpu_chromium"] = round(chromium * 1000 / executions, 2)
    out["cpu_window_s"] = round(cpu["window_s"], 2)
    return out
