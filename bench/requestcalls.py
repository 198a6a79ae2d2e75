"""Python calls per HTTP request: `PYTHONPATH=DIR python -m bench.requestcalls [N]`.

CPU time on a shared 2-core machine moves by ±20 % between runs; the number of Python calls a
request makes does not. The app runs in this process (its lifespan, then N requests of each
document through httpx's ASGI transport on one loop, after 50 of warm-up), under cProfile; the
calls made in httpx's own frames are left out (the client's helpers they call stay in, the same
for every variant). `create_live` creates executions of a one-Sleep flow, so the engine's work
for them, made in the same loop meanwhile, is counted too."""

from __future__ import annotations

import asyncio
import cProfile
import json
import pstats
import sys
import tempfile
from typing import Any

import httpx

from bench import ui

CREATE = """mutation($ns: String!, $f: String!) { createExecution(namespace: $ns, flowId: $f) {
  __typename ... on Execution { id } ... on Error { message } } }"""
DOCUMENTS: dict[str, tuple[str, dict[str, Any]]] = {
    "typename": ("{ __typename }", {}),
    "missing_execution": (
        "query($id: ID!) { execution(id: $id) { id state { current } } }",
        {"id": "nope"},
    ),
    "create_live": (CREATE, {"ns": "bench.calls", "f": "live"}),
    "create_missing_flow": (CREATE, {"ns": "bench.calls", "f": "missing"}),
}
DEPLOY = "mutation($s: String!) { deployFlow(source: $s) { __typename } }"
WARMUP = 50


async def measure(requests: int) -> dict[str, int]:
    """Calls per request of each document."""
    from tercel.app import create_app
    from tercel.settings import Settings

    found: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="tercel-calls-") as scratch:
        app = create_app(Settings(db_path=f"{scratch}/calls.db"))
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://calls") as client,
        ):
            source = ui.live_flow("bench.calls")
            await client.post("/graphql", json={"query": DEPLOY, "variables": {"s": source}})
            for name, (query, variables) in DOCUMENTS.items():
                payload = {"query": query, "variables": variables}
                for _ in range(WARMUP):
                    answer = await client.post("/graphql", json=payload)
                    if answer.status_code != 200 or "errors" in answer.json():
                        raise RuntimeError(f"{name}: {answer.text[:300]}")
                profile = cProfile.Profile()
                profile.enable()
                for _ in range(requests):
                    await client.post("/graphql", json=payload)
                profile.disable()
                found[name] = round(_calls(profile) / requests)
    return found


def _calls(profile: cProfile.Profile) -> int:
    stats: dict[Any, Any] = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    return sum(
        row[0]
        for where, row in stats.items()
        if "/httpx/" not in where[0] and "/httpcore/" not in where[0]
    )


def main() -> None:
    requests = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    print(json.dumps(asyncio.run(measure(requests))))


if __name__ == "__main__":
    main()
