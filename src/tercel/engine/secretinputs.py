"""SECRET inputs: stored apart from their display (docs/semantics.md#more-input-types).

Kestra stores a SECRET input encrypted in `execution.inputs` and decrypts it for expressions.
Tercel keeps it in the execution's row as a marked value, ``{"tercel:secret": "<text>"}``, so
that every surface that shows inputs (the execution document of `--json`, GraphQL
`Execution.inputs`) can mask it without looking up the flow, expressions see the text, and each
log line of the execution has the text replaced by `******`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["MASK", "is_secret", "masked", "masked_text", "reveal", "secret_texts", "wrap"]

MASK = "******"
_KEY = "tercel:secret"


def wrap(text: str) -> dict[str, str]:
    """The stored form of a SECRET input's value."""
    return {_KEY: text}


def is_secret(stored: Any) -> bool:
    """Whether `stored` is the stored form of a SECRET value."""
    return isinstance(stored, dict) and len(stored) == 1 and isinstance(stored.get(_KEY), str)


def reveal(stored: Any) -> Any:
    """The text of a stored SECRET value; any other value as it is."""
    return stored[_KEY] if is_secret(stored) else stored


def masked(inputs: dict[str, Any] | None) -> dict[str, Any] | None:
    """`inputs` as shown to users: each SECRET value is `******`."""
    if inputs is None or not any(is_secret(value) for value in inputs.values()):
        return inputs
    return {key: MASK if is_secret(value) else value for key, value in inputs.items()}


def secret_texts(inputs: dict[str, Any] | None) -> tuple[str, ...]:
    """The non-empty SECRET texts of `inputs`, longest first (so a longer one is masked whole)."""
    if not inputs:
        return ()
    texts = {value[_KEY] for value in inputs.values() if is_secret(value) and value[_KEY]}
    return tuple(sorted(texts, key=len, reverse=True))


def masked_text(text: str, secrets: Iterable[str]) -> str:
    """`text` with every occurrence of each secret replaced by `******`."""
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text
