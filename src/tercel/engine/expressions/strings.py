"""String filters of docs/semantics.md#expression-functions (Pebble core and Kestra's additions).

A filter whose result is at least as long as its input refuses an input over the 1 MiB cap
before copying it; `replace` and `indent` size their result before building it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import unicodedata
import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any

from tercel.engine.expressions import bounded, errors, guard, values

__all__ = ["FILTERS"]

_JAVA_SPACE = "".join(chr(code) for code in range(33))
_ESCAPED = re.compile(r"\\([^A-Za-z0-9])")
_SLUG_DROP = re.compile(r"[^A-Za-z0-9_-]")
#: characters `title` walks between two deadline checks
_CHUNK = 64 * 1024


def _text(value: Any) -> str:
    return value if isinstance(value, str) else values.to_text(value)


def _whole(value: Any) -> str:
    """The text of `value` for a filter whose result is at least as long: refused up front
    when over the cap (a context value can be larger), before the work is done."""
    text = _text(value)
    guard.check_text_size(len(text))
    return text


def upper(value: Any) -> Any:
    return None if value is None else _whole(value).upper()


def lower(value: Any) -> Any:
    return None if value is None else _whole(value).lower()


def trim(value: Any) -> Any:
    """Java `String.trim`: strips every character up to U+0020 at both ends."""
    return None if value is None else _text(value).strip(_JAVA_SPACE)


def capitalize(value: Any) -> Any:
    if value is None:
        return None
    text = _whole(value)
    stripped = text.lstrip()
    if not stripped:
        return text
    start = len(text) - len(stripped)
    return text[:start] + stripped[0].title() + stripped[1:]


def title(value: Any) -> Any:
    if value is None:
        return None
    text = _whole(value)
    chars, capitalize_next = [], True
    for start in range(0, len(text), _CHUNK):
        guard.check_deadline()  # a Python loop over up to 1 MiB: ~0.3 s, to be cut short
        for char in text[start : start + _CHUNK]:
            if char.isspace():
                capitalize_next = True
            elif capitalize_next:
                char = char.title()
                capitalize_next = False
            chars.append(char)
    return "".join(chars)


def split(value: Any, delimiter: Any, limit: Any = None) -> Any:
    """Java `String.split` with a literal delimiter (`\\.`-style escapes are unescaped)."""
    if value is None:
        return None
    if not isinstance(delimiter, str) or not delimiter:
        raise errors.RenderFailure("The `split` filter expects a non-empty delimiter")
    text, separator = _text(value), _ESCAPED.sub(r"\1", delimiter)
    count = 0 if limit is None else int(limit)
    parts = text.split(separator, count - 1) if count > 0 else text.split(separator)
    if len(parts) == 1:
        return [text]
    if count == 0:
        while parts and parts[-1] == "":
            parts.pop()
    return parts


def replace(value: Any, replace_pairs: Any, replacement: Any = None, regexp: Any = False) -> Any:
    """`replace({'a': 'b'})` or `replace('a', 'b')`; maps and lists are replaced recursively."""
    if value is None:
        return None
    if isinstance(replace_pairs, Mapping):
        if isinstance(replacement, bool):
            regexp, replacement = replacement, None
        pairs = [(_text(key), _text(new)) for key, new in replace_pairs.items()]
    elif replacement is not None:
        pairs = [(_text(replace_pairs), _text(replacement))]
    else:
        raise errors.RenderFailure("The `replace` filter expects a map or two strings")
    if regexp:
        raise errors.RenderFailure("Regular expressions are not supported by `replace`")
    if isinstance(value, (list, tuple, Mapping)):
        bounded.sized(value, "Cannot use `replace`")
    return _replace(value, pairs, [0])


def _replace(value: Any, pairs: list[tuple[str, str]], built: list[int]) -> Any:
    """`built[0]` sums the strings made so far: every pair may grow every string."""
    if isinstance(value, Mapping):
        return {key: _replace(item, pairs, built) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_replace(item, pairs, built) for item in value]
    data = _text(value)
    for old, new in pairs:
        guard.check_deadline()
        hits = data.count(old)
        guard.check_text_size(built[0] + len(data) + hits * (len(new) - len(old)))
        data = data.replace(old, new)
    built[0] += len(data)
    return data


def starts_with(value: Any, prefix: Any) -> bool:
    return value is not None and _text(value).startswith(_text(prefix))


def ends_with(value: Any, suffix: Any) -> bool:
    return value is not None and _text(value).endswith(_text(suffix))


def substring_before(value: Any, separator: Any) -> Any:
    if value is None:
        return None
    text, sep = _text(value), _text(separator)
    index = text.find(sep) if sep else 0
    return text if index < 0 else text[:index]


def substring_before_last(value: Any, separator: Any) -> Any:
    if value is None:
        return None
    text, sep = _text(value), _text(separator)
    index = text.rfind(sep) if sep else -1
    return text if index < 0 else text[:index]


def substring_after(value: Any, separator: Any) -> Any:
    if value is None:
        return None
    text, sep = _text(value), _text(separator)
    if not sep:
        return text
    index = text.find(sep)
    return "" if index < 0 else text[index + len(sep) :]


def substring_after_last(value: Any, separator: Any) -> Any:
    if value is None:
        return None
    text, sep = _text(value), _text(separator)
    index = text.rfind(sep) if sep else -1
    return "" if index < 0 or index == len(text) - len(sep) else text[index + len(sep) :]


def base64encode(value: Any) -> Any:
    if value is None:
        return None
    return base64.b64encode(_whole(value).encode()).decode("ascii")


def base64decode(value: Any) -> Any:
    if value is None:
        return None
    try:
        return base64.b64decode(_text(value), validate=True).decode()
    except (binascii.Error, ValueError) as error:
        raise errors.RenderFailure(f"Invalid base64 input: {error}") from None


def urlencode(value: Any) -> Any:
    """Java `URLEncoder.encode(…, UTF-8)`: spaces as `+`, only `A-Za-z0-9.-*_` kept."""
    if value is None:
        return None
    return urllib.parse.quote_plus(_whole(value), safe="*").replace("~", "%7E")


def urldecode(value: Any) -> Any:
    return None if value is None else urllib.parse.unquote_plus(_text(value))


def sha256(value: Any) -> Any:
    return None if value is None else hashlib.sha256(_text(value).encode()).hexdigest()


def md5(value: Any) -> Any:
    if value is None:
        return None
    return hashlib.md5(_text(value).encode(), usedforsecurity=False).hexdigest()


def slugify(value: Any) -> Any:
    """Kestra's `Slugify.of`: whitespace to `-`, accents dropped, `_` to `-`, lowercase."""
    if value is None:
        return None
    text = re.sub(r"\s", "-", _whole(value))
    text = _SLUG_DROP.sub("", unicodedata.normalize("NFD", text)).replace("_", "-")
    text = re.sub(r"-{2,}", "-", text).removeprefix("-").removesuffix("-")
    return text.lower()


def indent(value: Any, amount: Any, prefix: Any = " ") -> Any:
    """Indent every line but the first by `amount` times `prefix`."""
    return _indent(value, amount, prefix, first=False)


def nindent(value: Any, amount: Any, prefix: Any = " ") -> Any:
    """A newline, then every line indented by `amount` times `prefix`."""
    return _indent(value, amount, prefix, first=True)


def _indent(value: Any, amount: Any, prefix: Any, *, first: bool) -> Any:
    if value is None:
        return None
    text = _whole(value)
    if not text:
        return text
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
        raise errors.RenderFailure("The indent filters expect a positive integer `amount`")
    newline = next((nl for nl in ("\r\n", "\n\r", "\n", "\r") if nl in text), "\n")
    unit = _text(prefix)
    guard.check_text_size(len(unit) * amount)
    pad = unit * amount
    guard.check_text_size(len(text) + len(newline) + (text.count(newline) + 1) * len(pad))
    if first:
        text = newline + text
    return text.replace(newline, newline + pad)


FILTERS: dict[str, Callable[..., Any]] = {
    "upper": upper,
    "lower": lower,
    "trim": trim,
    "capitalize": capitalize,
    "title": title,
    "split": split,
    "replace": replace,
    "startsWith": starts_with,
    "endsWith": ends_with,
    "substringBefore": substring_before,
    "substringBeforeLast": substring_before_last,
    "substringAfter": substring_after,
    "substringAfterLast": substring_after_last,
    "base64encode": base64encode,
    "base64decode": base64decode,
    "urlencode": urlencode,
    "urldecode": urldecode,
    "sha256": sha256,
    "md5": md5,
    "slugify": slugify,
    "indent": indent,
    "nindent": nindent,
}
