"""shell Commands with real subprocesses (semantics.md#commands, semantics.md#kill item 2)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from tests.unit.engine.filecontext import FilesOfAContext

from tercel.engine import model
from tercel.engine.flows import loader
from tercel.engine.tasks import base, registry, runnables
from tercel.storage.files import LocalFiles

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX process groups")

L = model.LogLevel
COMMANDS = "io.kestra.plugin.scripts.shell.Commands"


@dataclass
class FakeContext(FilesOfAContext):
    """Records logs, metrics and processes; `{{ name }}` is replaced from `variables`."""

    task: model.TaskDef
    variables: dict[str, str] = field(default_factory=dict)
    logs: list[tuple[model.LogLevel, str]] = field(default_factory=list)
    metrics: list[tuple[str, str, float, dict[str, str]]] = field(default_factory=list)
    pids: list[int] = field(default_factory=list)
    execution_id: str = "exec"
    task_run_id: str = "taskrun"
    attempt_number: int = 1
    namespace: str = "company.team"
    flow_id: str = "flow"
    files: LocalFiles = field(default_factory=lambda: LocalFiles("/nonexistent/tercel-files"))

    @property
    def idempotency_key(self) -> str:
        return f"{self.execution_id}/{self.task_run_id}/{self.attempt_number}"

    def render(self, value: Any, variables: Mapping[str, Any] | None = None) -> Any:
        if isinstance(value, str):
            for name, replacement in {**self.variables, **(variables or {})}.items():
                value = value.replace("{{ " + name + " }}", replacement)
            return value
        return value

    def log(self, level: model.LogLevel, message: str) -> None:
        self.logs.append((level, message))

    def counter(self, name: str, value: float, tags: Mapping[str, str] | None = None) -> None:
        self.metrics.append(("counter", name, value, dict(tags or {})))

    def timer(self, name: str, seconds: float, tags: Mapping[str, str] | None = None) -> None:
        self.metrics.append(("timer", name, seconds, dict(tags or {})))

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    async def drain(self) -> None:
        await asyncio.sleep(0)

    def process_started(self, pid: int) -> None:
        self.pids.append(pid)

    def messages(self, level: model.LogLevel | None = None) -> list[str]:
        return [message for lvl, message in self.logs if level is None or lvl == level]


def make_ctx(*commands: str, variables: dict[str, str] | None = None, **props: Any) -> FakeContext:
    task_type = registry.get(COMMANDS)
    assert task_type is not None
    properties = {n: p.default for n, p in task_type.properties.items() if p.default is not None}
    properties.update(props, commands=list(commands))
    task = model.TaskDef(
        id="sh", type=COMMANDS, written_type=COMMANDS, kind=task_type.kind, properties=properties
    )
    return FakeContext(task, variables or {})


def run(ctx: FakeContext) -> base.TaskOutcome:
    return asyncio.run(asyncio.wait_for(runnables.run_commands(ctx), 20))


def fail(ctx: FakeContext) -> str:
    with pytest.raises(base.TaskFailure) as raised:
        run(ctx)
    return str(raised.value)


def alive(pid: int, *, group: bool = False) -> bool:
    """Whether a process (or any process of a group) exists and is not a zombie."""
    for name in os.listdir("/proc") if os.path.isdir("/proc") else []:
        try:
            stat = Path(f"/proc/{name}/stat").read_bytes().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if name.isdigit() and stat[0] != b"Z" and pid == int(stat[2] if group else name):
            return True
    if not os.path.isdir("/proc"):
        try:
            (os.killpg if group else os.kill)(pid, 0)
        except ProcessLookupError:
            return False
        return True
    return False


def test_outputs_metrics_and_logs_from_lines() -> None:
    lines = [
        {"outputs": {"k": "v", "n": 1}},
        {"outputs": {"k": "w", "nested": {"a": [1, 2]}}},
        {
            "metrics": [
                {"name": "rows", "type": "counter", "value": 3, "tags": {"table": "t", "n": 2}},
                {"name": "took", "type": "timer", "value": 1.5},
                {"name": "took", "type": "timer", "value": "PT2M"},
            ]
        },
        {"logs": [{"level": "WARN", "message": "careful"}, {"level": "debug", "message": "d"}]},
    ]
    ctx = make_ctx(
        "echo hello from shell",
        *(f"echo '::{json.dumps(line)}::'" for line in lines),
        "echo '::{not json}::'",
        "echo ':: {\"outputs\": {}}::'",
    )
    outcome = run(ctx)
    assert outcome == base.TaskOutcome(
        "SUCCESS", {"exitCode": 0, "vars": {"k": "w", "n": 1, "nested": {"a": [1, 2]}}}
    )
    assert ctx.logs == [
        (L.INFO, "hello from shell"),
        (L.WARN, "careful"),
        (L.DEBUG, "d"),
        (L.WARN, "Invalid outputs '{not json}'"),
        (L.INFO, ':: {"outputs": {}}::'),
    ]
    assert ctx.metrics == [
        ("counter", "rows", 3.0, {"table": "t", "n": "2"}),
        ("timer", "took", 1.5, {}),
        ("timer", "took", 120.0, {}),
    ]
    assert len(ctx.pids) == 1


@pytest.mark.parametrize(
    "payload",
    [
        '{"outputs": [1]}',
        '{"metrics": [{"name": "x", "type": "gauge", "value": 1}]}',
        '{"metrics": [{"name": "x", "type": "counter", "value": "many"}]}',
        '{"metrics": [{"type": "counter", "value": 1}]}',
        '{"logs": [{"level": "LOUD", "message": "x"}]}',
        '{"outputs": {"k": 1}, "metrics": {}}',
        '{"metrics": [{"name": "x", "type": "counter", "value": NaN}]}',
        '{"metrics": [{"name": "x", "type": "timer", "value": "soon"}]}',
        '{"outputs": ' + "[" * 30000 + "]" * 30000 + "}",
    ],
)
def test_malformed_directives_are_warned_and_ignored_whole(payload: str) -> None:
    ctx = make_ctx(f"echo '::{payload}::'")
    assert run(ctx).outputs == {"exitCode": 0, "vars": {}}
    assert ctx.logs == [(L.WARN, f"Invalid outputs '{payload}'")]
    assert ctx.metrics == []


def test_stderr_lines_are_errors_and_make_a_warning() -> None:
    ctx = make_ctx("echo out", "echo err >&2", 'echo \'::{"outputs": {"a": 1}}::\' >&2')
    outcome = run(ctx)
    assert outcome == base.TaskOutcome("WARNING", {"exitCode": 0, "vars": {"a": 1}})
    assert sorted(ctx.logs) == sorted([(L.INFO, "out"), (L.ERROR, "err")])


def test_stderr_without_warning_on_stderr() -> None:
    ctx = make_ctx("echo err >&2", warningOnStdErr=False)
    assert run(ctx).state == "SUCCESS"
    assert ctx.logs == [(L.ERROR, "err")]


def test_directives_on_stderr_do_not_make_a_warning() -> None:
    ctx = make_ctx('echo \'::{"outputs": {"a": 1}}::\' >&2')
    assert run(ctx) == base.TaskOutcome("SUCCESS", {"exitCode": 0, "vars": {"a": 1}})


def test_non_zero_exit_fails() -> None:
    ctx = make_ctx("echo about to fail", "exit 3")
    assert fail(ctx) == "Command failed with exit code 3"
    assert ctx.logs == [(L.INFO, "about to fail")]


def test_death_by_signal_reports_128_plus_signal() -> None:
    assert fail(make_ctx("kill -9 $$")) == "Command failed with exit code 137"


def test_fail_fast_stops_at_the_first_failure() -> None:
    ctx = make_ctx("false", "echo after")
    assert fail(ctx) == "Command failed with exit code 1"
    assert ctx.logs == []


def test_without_fail_fast_the_last_command_decides() -> None:
    ctx = make_ctx("false", "echo after", failFast=False)
    assert run(ctx).state == "SUCCESS"
    assert ctx.logs == [(L.INFO, "after")]


def test_before_commands_and_rendering() -> None:
    ctx = make_ctx(
        "echo {{ who }} $GREETING",
        'echo "$NUMBER $FLAG"',
        beforeCommands=["echo before"],
        env={"GREETING": "hi {{ who }}", "NUMBER": 7, "FLAG": True},
        variables={"who": "world"},
    )
    run(ctx)
    assert ctx.messages() == ["before", "world hi world", "7 true"]


def test_environment_is_isolated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERCEL_TEST_SECRET", "leaked")
    monkeypatch.setenv("LANG", "C.UTF-8")
    ctx = make_ctx("env", env={"MINE": "yes"})
    run(ctx)
    names = {line.split("=", 1)[0] for line in ctx.messages()}
    assert "TERCEL_TEST_SECRET" not in names
    assert {"PATH", "LANG", "MINE"} <= names
    expected = {"PATH", "HOME", "LANG", "TMPDIR", "MINE", "PWD", "SHLVL", "_", "OLDPWD"}
    assert names - expected == {"TERCEL_ATTEMPT"}  # how the attempt's descendants are found
    assert "TERCEL_ATTEMPT=taskrun/1" in ctx.messages()
    assert "MINE=yes" in ctx.messages()


def test_runs_in_a_fresh_temporary_directory_removed_afterwards() -> None:
    first, second = make_ctx("pwd", "touch made-here"), make_ctx("pwd", "ls")
    run(first)
    run(second)
    (one,), (two,) = first.messages(), second.messages()
    assert one != two and Path(one).parent.name.startswith("tercel-commands-")
    assert not Path(one).exists() and not Path(two).exists()
    failing = make_ctx("pwd", "exit 2")
    fail(failing)
    assert not Path(failing.messages()[0]).exists()


def test_stdin_is_closed() -> None:
    ctx = make_ctx("cat", "echo done")
    run(ctx)
    assert ctx.messages() == ["done"]


def test_long_lines_are_cut_and_last_line_kept() -> None:
    ctx = make_ctx("head -c 200000 /dev/zero | tr '\\0' a", "echo", "echo next", "printf tail")
    run(ctx)
    assert [len(m) for m in ctx.messages()] == [64 * 1024, 4, 4]
    assert ctx.messages()[1:] == ["next", "tail"]


def test_other_interpreter() -> None:
    ctx = make_ctx(
        "import sys",
        "print('from python', sys.argv[0])",
        interpreter=[sys.executable, "-c"],
        failFast=False,
    )
    run(ctx)
    assert ctx.messages() == ["from python -c"]


def test_missing_interpreter_fails() -> None:
    ctx = make_ctx("echo x", interpreter=["/nonexistent/shell", "-c"])
    assert fail(ctx).startswith("Cannot start /nonexistent/shell")


def test_ignored_properties_are_warned_from_a_loaded_flow() -> None:
    """Built by the flow loader, as in a real run (a hand-built TaskDef proved nothing: the
    loader dropped these properties, so the WARN never fired)."""
    flow = loader.load_flow(
        "id: f\nnamespace: n\ntasks:\n  - id: sh\n    type: " + COMMANDS + "\n"
        "    containerImage: ubuntu\n"
        "    taskRunner:\n      type: io.kestra.plugin.core.runner.Process\n"
        "    commands: [echo x]\n"
    )  # fmt: skip
    ctx = FakeContext(flow.tasks[0])
    run(ctx)
    assert ctx.logs[:2] == [
        (L.WARN, "Property 'taskRunner' is ignored: Tercel runs a local process"),
        (L.WARN, "Property 'containerImage' is ignored: Tercel runs a local process"),
    ]


def test_background_leftovers_do_not_outlive_the_attempt() -> None:
    ctx = make_ctx("sleep 30 &", "echo $!")
    started = time.monotonic()
    assert run(ctx).state == "SUCCESS"
    assert time.monotonic() - started < 3
    assert not alive(int(ctx.messages()[0]))
    assert not alive(ctx.pids[0], group=True)


def test_a_process_that_left_the_group_does_not_hold_the_attempt() -> None:
    ctx = make_ctx("setsid sleep 30 &", "echo $!")
    started = time.monotonic()
    assert run(ctx).outputs == {"exitCode": 0, "vars": {}}
    assert time.monotonic() - started < 3
    assert not alive(int(ctx.messages()[0]))


#: a grandchild in a session of its own, deaf to SIGTERM and SIGHUP; its pid is printed once
#: it is in place
ESCAPING = (
    "setsid sh -c 'trap \"\" TERM HUP; echo $$ > pid; exec sleep 300' &",
    "while [ ! -s pid ]; do sleep 0.01; done; cat pid",
)


def test_a_normal_end_ends_descendants_that_left_the_session() -> None:
    """A grandchild in its own session, deaf to SIGTERM and SIGHUP, is ended with the attempt
    and reaped by the engine (the child subreaper that adopted it)."""
    ctx = make_ctx(*ESCAPING)
    assert run(ctx).state == "SUCCESS"
    grandchild = int(ctx.messages()[0])
    assert not alive(grandchild)
    assert not Path(f"/proc/{grandchild}").exists(), "an adopted orphan was left a zombie"


def test_cancellation_ends_descendants_that_left_the_session() -> None:
    ctx = make_ctx(*ESCAPING, "sleep 300")
    took = _cancel_after_line(ctx, lambda c: len(c.messages()) == 1)
    grandchild = int(ctx.messages()[0])
    assert 1.9 < took < 3.5  # SIGTERM is ignored: SIGKILL after the grace period
    assert not alive(grandchild)
    assert not Path(f"/proc/{grandchild}").exists()


def _cancel_after_line(ctx: FakeContext, ready: Callable[[FakeContext], bool]) -> float:
    """Start the task, cancel it once `ready`, return how long the cancellation took."""

    async def scenario() -> float:
        task = asyncio.create_task(runnables.run_commands(ctx))
        while not ready(ctx):
            assert not task.done(), ctx.logs
            await asyncio.sleep(0.01)
        started = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return time.monotonic() - started

    return asyncio.run(asyncio.wait_for(scenario(), 20))


def _gone(pid: int, *, group: bool = False, within: float = 1.0) -> bool:
    """A signalled process is gone once the kernel has delivered the signal: poll briefly
    (an instant check raced signal delivery on a loaded machine)."""
    deadline = time.monotonic() + within
    while alive(pid, group=group):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_cancellation_ends_the_whole_group() -> None:
    ctx = make_ctx("sleep 30 &", "echo $!", "pwd", "sleep 30")
    took = _cancel_after_line(ctx, lambda c: len(c.messages()) == 2)
    child, workdir = ctx.messages()
    assert took < 1.9  # SIGTERM did it: the SIGKILL escalation comes after 2 s
    assert _gone(int(child)) and _gone(ctx.pids[0], group=True)
    assert not Path(workdir).exists()


def test_cancellation_kills_what_ignores_sigterm() -> None:
    ctx = make_ctx("trap '' TERM", "sleep 30 &", "echo $!", "sleep 30")
    took = _cancel_after_line(ctx, lambda c: len(c.messages()) == 1)
    assert 1.9 < took < 3.5
    assert not alive(int(ctx.messages()[0])) and not alive(ctx.pids[0], group=True)


def test_a_second_cancel_does_not_cut_cleanup_short() -> None:
    ctx = make_ctx("trap '' TERM", "echo ready", "sleep 30")

    async def scenario() -> None:
        task = asyncio.create_task(runnables.run_commands(ctx))
        while not ctx.messages():
            await asyncio.sleep(0.01)
        task.cancel()
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(asyncio.wait_for(scenario(), 20))
    assert not alive(ctx.pids[0], group=True)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux")
def test_child_dies_with_the_engine(tmp_path: Path) -> None:
    engine = textwrap.dedent(
        """
        import asyncio, sys
        from tercel.engine import model
        from tercel.engine.tasks import commands

        class Ctx:
            task = model.TaskDef(
                id="sh", type="x", written_type="x", kind=model.TaskKind.RUNNABLE,
                properties={"commands": ["exec sleep 30"], "failFast": False},
            )
            task_run_id, attempt_number = "run", 1
            def render(self, value, variables=None): return value
            def log(self, level, message): pass
            def process_started(self, pid): print(pid, flush=True)
            async def drain(self): pass

        asyncio.run(commands.run(Ctx()))
        """
    )
    with subprocess.Popen(
        [sys.executable, "-c", engine], stdout=subprocess.PIPE, text=True
    ) as process:
        assert process.stdout is not None
        pid = int(process.stdout.readline())
        assert alive(pid)
        process.send_signal(signal.SIGKILL)
        process.wait()
        process.stdout.close()
    deadline = time.monotonic() + 3
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not alive(pid)
