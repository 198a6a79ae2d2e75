"""`tercel run FLOW.yaml`: validate, store, execute in-process until the execution settles."""

from __future__ import annotations

import argparse
import asyncio
import difflib
import os
import signal
import sys
import tempfile
import traceback
from typing import Any

import orjson

from tercel import flowdir, progress, startcheck
from tercel.engine import files, model, service, states
from tercel.engine.flows import fileinputs, loader
from tercel.engine.runtime import scheduler
from tercel.storage import lock

__all__ = ["run"]

S = states.StateType
EXIT_FOR_STATE = {S.SUCCESS: 0, S.WARNING: 0, S.PAUSED: 3}


def run(args: argparse.Namespace) -> int:
    try:
        with open(args.flow, encoding="utf-8") as handle:
            source = handle.read()
    except (OSError, UnicodeDecodeError) as error:
        print(f"{args.flow}: cannot read the flow file: {error}", file=sys.stderr)
        return 2
    try:
        flow = loader.load_flow(source, file=args.flow)
    except loader.FlowValidationError as error:
        for line in error.lines():
            print(line, file=sys.stderr)
        return 2
    given = _pairs(args.input, "--input")
    labels = _pairs(args.label, "--label")
    if given is None or labels is None or not _known_inputs(given, flow, args.flow):
        return 2
    uploads = _file_inputs(given, flow)
    if uploads is None:
        return 2
    flows_dir = getattr(args, "flows", None)
    if flows_dir is not None and not os.path.isdir(flows_dir):
        print(f"tercel run: --flows {flows_dir}: not a folder", file=sys.stderr)
        return 2
    if flow.triggers:
        names = ", ".join(trigger.id for trigger in flow.triggers)
        print(f"tercel run: triggers ignored ({names}): `tercel server` runs them", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="tercel-") as scratch:
        db_path = args.db or os.path.join(scratch, "tercel.db")
        problem = startcheck.open_problem(db_path)
        if problem is not None:
            print(f"tercel run: {problem.message}", file=sys.stderr)
            return problem.exit_status
        try:
            return asyncio.run(_execute(db_path, source, args, given, labels, uploads))
        except lock.DatabaseInUseError as error:
            print(f"tercel: {error}", file=sys.stderr)
            return 2
        finally:
            for upload in uploads:
                upload.source.close()


def _file_inputs(given: dict[str, str], flow: model.Flow) -> list[fileinputs.Upload] | None:
    """`--input NAME=PATH` of a FILE input: the local file, opened (taken out of `given`)."""
    uploads: list[fileinputs.Upload] = []
    for definition in flow.inputs:
        if definition.type.upper() != "FILE" or definition.id not in given:
            continue
        path = given.pop(definition.id)
        try:
            handle = open(path, "rb")  # closed by `run`
        except OSError as error:
            for upload in uploads:
                upload.source.close()
            print(f"tercel run: --input {definition.id}: cannot read `{path}`: "
                  f"{error.strerror}", file=sys.stderr)  # fmt: skip
            return None
        uploads.append(fileinputs.Upload(definition.id, os.path.basename(path), handle))
    return uploads


def _known_inputs(given: dict[str, str], flow: model.Flow, file: str) -> bool:
    """A misspelled --input name is an error naming the closest declared input."""
    declared = [definition.id for definition in flow.inputs]
    for name in given:
        if name in declared:
            continue
        close = difflib.get_close_matches(name, declared, n=1, cutoff=0.5)
        hint = f"; did you mean `{close[0]}`?" if close else ""
        known = ", ".join(f"`{d}`" for d in declared) or "none"
        print(f"tercel run: --input {name}: {file} declares no input `{name}` "
              f"(declared: {known}){hint}", file=sys.stderr)  # fmt: skip
        return False
    return True


def _pairs(items: list[str], option: str) -> dict[str, str] | None:
    found: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            print(f"tercel run: {option} expects NAME=VALUE, got `{item}`", file=sys.stderr)
            return None
        found[name] = value
    return found


async def _execute(
    db_path: str,
    source: str,
    args: argparse.Namespace,
    given: dict[str, str],
    labels: dict[str, str],
    uploads: list[fileinputs.Upload],
) -> int:
    engine = scheduler.Engine(db_path, files_dir=getattr(args, "storage", None))
    await engine.start()
    status: int | None = None
    try:
        if getattr(args, "flows", None) is not None:
            await flowdir.deploy_directory(engine, args.flows)
        flow = await service.deploy_flow(engine, source, file=args.flow)
        reporter = progress.Reporter(sys.stderr, "")
        settled = _settled(engine, reporter)
        created = await service.create_execution(
            engine,
            flow.namespace,
            flow.id,
            given,
            [model.Label(k, v) for k, v in labels.items()],
            from_text=True,
            uploads=uploads,
        )
        if not isinstance(created, model.Execution):
            for line in getattr(created, "issues", None) or [created]:
                print(f"{args.flow}: {line.message}", file=sys.stderr)
            return 2
        reporter.execution_id = created.id
        reporter.replay(engine.last_batches)
        _check(engine, created.id, settled)
        crashed = asyncio.ensure_future(engine.crashed())
        interrupted = _interruption()
        await asyncio.wait((settled, crashed, interrupted), return_when=asyncio.FIRST_COMPLETED)
        if interrupted.done() and not settled.done() and not crashed.done():
            print("\ntercel: interrupted, killing the execution", file=sys.stderr)
            await service.kill_execution(engine, created.id)
            await asyncio.wait((settled, crashed), timeout=10, return_when=asyncio.FIRST_COMPLETED)
            status = 130
        if crashed.done():
            error = crashed.result()
            traceback.print_exception(error, file=sys.stderr)
            print(f"tercel: internal error: {error!r}", file=sys.stderr)
            return 4
        crashed.cancel()
        interrupted.cancel()
        final = await service.get_execution(engine, created.id)
    finally:
        await engine.stop()
    assert final is not None
    reporter.summary(final)
    _note_discarded_files(engine, final, args)
    if args.json:
        sys.stdout.write(orjson.dumps(_document(final)).decode() + "\n")
    return status if status is not None else EXIT_FOR_STATE.get(final.state.current, 1)


def _note_discarded_files(
    engine: scheduler.Engine, final: model.Execution, args: argparse.Namespace
) -> None:
    """Without --db (nor --storage) the files go with the throw-away database: say so."""
    if args.db or getattr(args, "storage", None):
        return
    prefix = files.execution_prefix(final.namespace, final.flow_id, final.id)
    count = len(list(engine.files.under(prefix)))
    if count:
        print(f"tercel run: the execution's {count} file(s) go with the throw-away database "
              "(give --db PATH to keep them)", file=sys.stderr)  # fmt: skip


def _interruption() -> asyncio.Future[None]:
    """Resolves on Ctrl-C or SIGTERM (the execution is then killed first)."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[None] = loop.create_future()

    def interrupted() -> None:
        if not future.done():
            future.set_result(None)

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, interrupted)
    return future


def _document(final: model.Execution) -> dict[str, Any]:
    from tercel.engine.run import document

    return document.execution_document(final)


def _settled(engine: scheduler.Engine, reporter: progress.Reporter) -> asyncio.Future[None]:
    """Resolves once the execution is terminal, or PAUSED with nothing left but a manual resume."""
    future: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def listener(batch: scheduler.Batch) -> None:
        if not reporter.execution_id:
            return
        reporter.batch(batch)
        _check(engine, reporter.execution_id, future)

    engine.listeners.append(listener)
    return future


def _check(engine: scheduler.Engine, execution_id: str, future: asyncio.Future[None]) -> None:
    if future.done():
        return
    es = engine.active.get(execution_id)
    if es is None or es.ex.state.current.is_terminated:
        future.set_result(None)
    elif (
        es.ex.state.current is S.PAUSED
        and not es.timers
        and not es.retrying
        and all(
            run.state.current is S.PAUSED
            or run.state.current.is_terminated
            or run.id in es.containers
            for run in es.ex.task_runs
        )
    ):
        future.set_result(None)
