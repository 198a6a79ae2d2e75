"""The fuzz's runner: one `tercel server` subprocess, cases generated from (seed, index), and
after each case the checks that the server and its engine still work.

After a case: `/health` answers 200 within the bound; if the case sent a mutation, a probe
execution of a known good flow is accepted and ends SUCCESS (the engine still runs); the
executions the case created reach a terminal or PAUSED state, and their documents and logs can
be read back. A broken check is a finding; when the process died or its engine stopped, the
finding says so and the server is started again on a fresh database file (the old file may
hold what kills it at every start)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.crash.server import TERMINAL, TercelServer
from tests.hostile import fuzz_flows as ff
from tests.hostile.fuzz_args import Pools
from tests.hostile.fuzz_cases import FIXTURES, Case, quarantined
from tests.hostile.fuzz_client import Bounds, Broken, Client
from tests.hostile.fuzz_values import to_yaml
from tests.hostile.fuzz_wire import ALL_KINDS

SETTLED = TERMINAL | {"PAUSED"}
PROBE = {"id": "probe", "namespace": FIXTURES, "inputs": [{"id": "x", "type": "STRING",
         "required": False}], "tasks": [{"id": "ok", "type": f"{ff.CORE}.debug.Return",
         "format": "ok"}]}  # fmt: skip
FIXTURE_FLOWS = [
    PROBE,
    {"id": "inputs", "namespace": FIXTURES, "inputs": ff.INPUT_DEFS, "labels": {"team": "fix"},
     "tasks": [{"id": "echo", "type": f"{ff.CORE}.debug.Return", "format": ff.ECHO}]},
    {"id": "pause", "namespace": FIXTURES, "tasks": ff._pause_and_subflow()[2:]},
]  # fmt: skip
DOCUMENT = """query($id: ID!) {
  execution(id: $id) { id state { current } inputs outputs labels { key value }
    taskRunList { id taskId value outputs state { current } } }
  logs(executionId: $id, first: 100) { edges { node { level message } } } }"""
DELETE_EXECUTION = "mutation($id: ID!) { deleteExecution(id: $id) { __typename } }"


@dataclass
class Finding:
    index: int
    kind: str
    symptom: str
    detail: str
    request: str
    notes: list[str]
    restarted: bool = False

    def report(self, seed: int) -> str:
        lines = [
            f"case {self.index} ({self.kind}) — {self.symptom}: {self.detail}",
            f"  reproduce: TERCEL_FUZZ_SEED={seed} TERCEL_FUZZ_ONLY={self.index} make crash",
            f"  last request: {self.request[:600]}",
            *(f"  {note[:400]}" for note in self.notes),
        ]
        if self.restarted:
            lines.append("  (the server was started again on a fresh database)")
        return "\n".join(lines)


class Fuzz:
    def __init__(self, folder: Path, seed: int, bounds: Bounds) -> None:
        self.folder, self.seed, self.bounds = folder, seed, bounds
        self.findings: list[Finding] = []
        self.starts = 0
        self.pools = Pools()
        self.server: TercelServer
        self.client: Client
        self.kill_notes: list[str] = []

    # ------------------------------------------------------------------ the server

    def start(self) -> None:
        folder = self.folder / f"server{self.starts}"
        folder.mkdir()
        self.starts += 1
        env = {"TERCEL_CONNECTION_INIT_TIMEOUT": "2"}
        self.server = TercelServer(folder / "tercel.db", folder / "server.log", env)
        self.server.start()
        self.client = Client(self.server, self.bounds)
        self.pools = Pools()
        for flow in FIXTURE_FLOWS:
            found = self.server.deploy(to_yaml(flow))
            assert found["__typename"] == "Flow", found
        for _ in range(3):
            self.pools.paused.append(self.server.create(FIXTURES, "pause"))
        ended = self.server.create(FIXTURES, "inputs")
        self.server.wait_terminal(ended)
        self.pools.ended.append(ended)
        self.pools.task_runs += [run["id"] for run in self.server.document(ended)["taskRunList"]]
        changes = self.server.data(
            "query($id: ID) { stateChanges(executionId: $id) { edges { cursor } } }", {"id": ended}
        )["stateChanges"]["edges"]
        self.pools.cursors += [edge["cursor"] for edge in changes]

    def close(self) -> int | None:
        self.client.close()
        code = self.server.stop()
        self.server.close()
        return code

    def _restart_if_needed(self) -> bool:
        """Start the server again if its process or its engine is gone; whether it did."""
        proc = self.server.proc
        self.client.close()  # the server may close a connection after a 500
        slowest = self.client.slowest
        self.client = Client(self.server, self.bounds)
        self.client.slowest = slowest
        try:
            if proc is None or proc.poll() is not None:
                raise Broken("server exited", f"status {None if proc is None else proc.returncode}")
            self.client.health()
            self.probe()
            return False
        except Broken:
            self.client.close()
            self.server.kill()
            self.server.close()
            slowest = self.client.slowest
            self.start()
            self.client.slowest = slowest
            return True

    # ------------------------------------------------------------------ checks

    def start_probe(self) -> str:
        """Create an execution of a known good flow; its id."""
        self.client.last = "probe: createExecution(fuzz.fix/probe)"
        found = self.client.gql(
            'mutation { createExecution(namespace: "fuzz.fix", flowId: "probe") '
            "{ __typename ... on Execution { id } ... on Error { message } } }",
            timeout=self.bounds.slow,  # an engine that is gone is not waited for long
        )
        result = (found.get("data") or {}).get("createExecution") or {}
        if result.get("__typename") != "Execution":
            raise Broken("probe refused", str(found)[:300])
        probe_id: str = result["id"]
        return probe_id

    def probe(self) -> None:
        """A known good flow still runs to SUCCESS: the engine works."""
        probe_id = self.start_probe()
        self.check_settled(self.settle([probe_id], kill=False), probe_id)

    def settle(self, ids: list[str], *, kill: bool = True) -> dict[str, str]:
        """The states of `ids` once terminal or PAUSED, or at the bound; with `kill`, what still
        runs then is killed (a legitimately long task, say) and waited for once more."""
        deadline = time.monotonic() + self.bounds.settle
        while True:
            states = self._states(ids)
            waiting = [i for i, state in states.items() if state not in SETTLED]
            if not waiting or time.monotonic() > deadline or "GONE" in states.values():
                break
            time.sleep(0.01)
        running = [i for i in waiting if states[i] == "RUNNING"]
        if not kill or not running:
            return states
        for execution_id in running:
            self.client.gql(
                "mutation($id: ID!) { killExecution(id: $id) { __typename } }", {"id": execution_id}
            )
            self.kill_notes.append(f"{execution_id} still RUNNING after the bound: killed")
        return states | self.settle(running, kill=False)

    def check_settled(self, states: dict[str, str], probe_id: str | None) -> None:
        if probe_id is not None and states.pop(probe_id) != "SUCCESS":
            raise Broken("engine stopped", f"the probe execution is not SUCCESS: {states}")
        if "GONE" in states.values():
            raise Broken("execution vanished", f"no longer found: {states}")
        if any(state not in SETTLED for state in states.values()):
            raise Broken("stuck execution", f"after {self.bounds.settle}s: {states}")

    def _states(self, ids: list[str]) -> dict[str, str]:
        fields = " ".join(
            f'e{n}: execution(id: "{execution_id}") {{ state {{ current }} }}'
            for n, execution_id in enumerate(ids)
        )
        data = self.client.gql(f"{{ {fields} }}").get("data") or {}
        return {
            execution_id: (data.get(f"e{n}") or {"state": {"current": "GONE"}})["state"]["current"]
            for n, execution_id in enumerate(ids)
        }

    def after(self, case: Case) -> None:
        """The checks after a case; the probe settles together with the case's executions."""
        self.client.health()
        probe_id = self.start_probe() if case.mutated else None
        ids = [*case.created, *([probe_id] if probe_id else [])]
        for start in range(0, len(ids), 10):
            states = self.settle(ids[start : start + 10])
            self.check_settled(dict(states), probe_id if probe_id in states else None)
            for execution_id, state in states.items():
                if execution_id == probe_id:
                    continue
                with quarantined(case, DELETE_EXECUTION, {"id": execution_id}):
                    self.client.gql(DOCUMENT, {"id": execution_id})
                pool = self.pools.paused if state == "PAUSED" else self.pools.ended
                if len(pool) < 200:
                    pool.append(execution_id)

    # ------------------------------------------------------------------ the run

    def kind_of(self, rng: random.Random) -> Callable[[Case, int], None]:
        kinds, weights = zip(*ALL_KINDS, strict=True)
        chosen: Callable[[Case, int], None] = rng.choices(kinds, weights)[0]
        return chosen

    def run_case(self, index: int) -> None:
        rng = random.Random(f"{self.seed}:{index}")
        kind = self.kind_of(rng)
        case = Case(rng, self.client, self.pools)
        found: list[Finding] = []
        for step in (lambda: kind(case, index), lambda: self.after(case)):
            try:  # the checks run after a broken case too: it may have stalled or killed
                step()
            except Broken as broken:
                found.append(
                    Finding(index, kind.__name__, broken.symptom, broken.detail,
                            self.client.last, list(case.notes))
                )  # fmt: skip
        if found:
            self.findings += found
            found[-1].restarted = self._restart_if_needed()

    def final_sweep(self) -> None:
        """No execution of the whole run is left CREATED or RUNNING."""
        query = """{ executions(filter: {stateNotIn: [%s]}, first: 100) {
            edges { node { id namespace flowId state { current } } } } }"""
        ids: list[Any] = []
        try:
            found = self.client.gql(query % ", ".join(sorted(SETTLED)))
            ids = [e["node"]["id"] for e in found["data"]["executions"]["edges"]]
            for start in range(0, len(ids), 10):
                self.check_settled(self.settle(ids[start : start + 10]), None)
        except Broken as broken:
            self.findings.append(
                Finding(-1, "final sweep", broken.symptom, broken.detail, self.client.last, [])
            )
