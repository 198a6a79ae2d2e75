"""jq helper process: reads `[program, input_json, max_chars]` lines, answers `[ok, payload]`.

Runs as a plain script (`python -I _jqworker.py`): it imports only the standard library and `jq`,
so it starts fast and never loads the engine. The parent kills it when a program overruns the
render deadline; compiled programs are cached here for the fast path.
"""

from __future__ import annotations

import json
import sys
from typing import Any

_CACHE_SIZE = 256
_MEMORY_LIMIT = 1 << 30


def _limit_memory() -> None:
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (_MEMORY_LIMIT, _MEMORY_LIMIT))
    except (ImportError, ValueError, OSError):
        pass


def _run(cache: dict[str, Any], program: str, text: str, max_chars: int) -> list[Any]:
    import jq

    compiled = cache.get(program)
    if compiled is None:
        if len(cache) >= _CACHE_SIZE:
            cache.clear()
        compiled = cache[program] = jq.compile(program)
    results: list[Any] = []
    size = 0
    for value in compiled.input_text(text):
        results.append(value)
        size += 1 if value is None or isinstance(value, (bool, int, float)) else 16
        if isinstance(value, str):
            size += len(value)
        if size > max_chars:
            raise ValueError(f"jq output is larger than {max_chars} characters")
    return results


def main() -> None:
    _limit_memory()
    import jq  # noqa: F401 - imported before announcing readiness

    cache: dict[str, Any] = {}
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    stdout.write(b'["ready"]\n')
    stdout.flush()
    for line in stdin:
        try:
            program, text, max_chars = json.loads(line)
            payload = json.dumps(_run(cache, program, text, max_chars), ensure_ascii=False)
            if len(payload) > max_chars:
                raise ValueError(f"jq output is larger than {max_chars} characters")
            answer = ["ok", payload]
        except MemoryError:
            answer = ["error", "jq ran out of memory"]
        except Exception as error:
            answer = ["error", str(error) or type(error).__name__]
        stdout.write(json.dumps(answer, ensure_ascii=False).encode("utf-8") + b"\n")
        stdout.flush()


if __name__ == "__main__":
    main()
