"""`io.kestra.plugin.core.http.Request` (docs/semantics.md#http-request; Kestra: AbstractHttp,
HttpInterface, Request of the 0.21 line).

Properties are rendered on the loop; the exchange itself blocks in a thread of its own pool
(httpexchange) and a kill or a `timeout` aborts its socket. Outputs as Kestra: `uri`, `code`,
`headers` (lower-case name → list of values) and `body` (text, null when empty). A status >= 400
fails the attempt unless `allowFailed` (top level as in 0.21, or `options.allowFailed` as later
versions have it).
"""

from __future__ import annotations

import asyncio
import base64
import email.message
import json
import urllib.parse
import uuid
from datetime import timedelta
from typing import Any

from tercel.engine import durations, model
from tercel.engine.tasks import base
from tercel.engine.tasks.directives import text as _text
from tercel.engine.tasks.httpexchange import Exchange, ExchangeError, Reply, Request, pool

__all__ = ["MAX_CONTENT_LENGTH", "OPTIONS", "run_request"]

#: Kestra's default `maxContentLength` (10 MB), also Tercel's ceiling: the body is an output
MAX_CONTENT_LENGTH = 10 * 1024 * 1024
_DEFAULT_READ_SECONDS = 10.0  # Micronaut's default read timeout, which Kestra keeps
OPTIONS = frozenset(
    {
        "connectTimeout",
        "readTimeout",
        "readIdleTimeout",
        "connectionPoolIdleTimeout",
        "maxContentLength",
        "followRedirects",
        "basicAuthUser",
        "basicAuthPassword",
        "defaultCharset",
        "allowFailed",
        "logLevel",
    }
)
_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE"})


async def run_request(ctx: base.RunContext) -> base.TaskOutcome:
    properties = ctx.task.properties
    options = _options(ctx.render(properties.get("options") or {}))
    request = _request(ctx, options)
    exchange = Exchange(request)
    future = asyncio.get_running_loop().run_in_executor(pool(), exchange.perform)
    try:
        reply = await future
    except asyncio.CancelledError:  # kill or task timeout: free the thread now
        exchange.abort()
        raise
    except ExchangeError as error:
        raise base.TaskFailure(str(error)) from None
    ctx.log(model.LogLevel.DEBUG, f"Request '{request.uri}' with the response code '{reply.code}'")
    allowed = bool(properties.get("allowFailed")) or options.get("allowFailed") is True
    if reply.code >= 400 and not allowed:
        raise base.TaskFailure(
            f"Request to {request.uri} failed with response code {reply.code} {reply.reason}"
            " (set `allowFailed: true` to accept it)"
        )
    length = _header(reply, "content-length")
    if length is not None and length.isdigit():
        tags = {"request.method": request.method, "response.code": str(reply.code)}
        ctx.counter("response.length", float(length), tags)
    return base.TaskOutcome(outputs=_outputs(reply, options))


def _options(rendered: Any) -> dict[str, Any]:
    if not isinstance(rendered, dict):
        raise base.TaskFailure("`options` must be a map")
    unknown = sorted(set(rendered) - OPTIONS)
    if unknown:
        raise base.TaskFailure(
            f"`options.{unknown[0]}` is a Kestra Request option Tercel does not run"
            f" (Tercel runs {', '.join(sorted(OPTIONS))})"
        )
    return rendered


def _request(ctx: base.RunContext, options: dict[str, Any]) -> Request:
    properties = ctx.task.properties
    uri = _text(ctx.render(properties.get("uri"))).strip()
    try:  # urllib checks the host and the port only when they are read
        parts = urllib.parse.urlsplit(uri)
        host, _ = parts.hostname, parts.port
    except ValueError as error:
        raise base.TaskFailure(f"`uri` is not a valid URL (`{uri}`): {error}") from None
    if parts.scheme not in ("http", "https") or not host:
        raise base.TaskFailure(f"`uri` must be an http or https URL, got `{uri}`")
    method = _text(ctx.render(properties.get("method") or "GET")).upper()
    if method not in _METHODS:
        raise base.TaskFailure(f"unknown HTTP method `{method}`")
    headers = [(str(k), _text(v)) for k, v in (ctx.render(properties.get("headers")) or {}).items()]
    content_type = properties.get("contentType")
    content_type = _text(ctx.render(content_type)) if content_type is not None else None
    body, form_type = _body(ctx, content_type)
    if form_type is not None:
        content_type = form_type
    if content_type is not None:
        headers = [(k, v) for k, v in headers if k.lower() != "content-type"]
        headers.append(("Content-Type", content_type))
    user, password = options.get("basicAuthUser"), options.get("basicAuthPassword")
    if user is not None and password is not None:
        token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        headers.append(("Authorization", f"Basic {token}"))
    max_length = _size(options.get("maxContentLength", MAX_CONTENT_LENGTH))
    ssl_options = ctx.render(properties.get("sslOptions")) or {}
    return Request(
        uri=uri,
        method=method,
        headers=headers,
        body=body,
        connect_timeout=_seconds(options, "connectTimeout", _DEFAULT_READ_SECONDS),
        read_timeout=_seconds(options, "readTimeout", _DEFAULT_READ_SECONDS),
        max_content_length=max_length,
        follow_redirects=options.get("followRedirects", True) is not False,
        verify_tls=not (
            isinstance(ssl_options, dict) and ssl_options.get("insecureTrustAllCertificates")
        ),
    )


def _body(ctx: base.RunContext, content_type: str | None) -> tuple[bytes | None, str | None]:
    """The request body and, for `formData`, the content type it sets."""
    properties = ctx.task.properties
    form = properties.get("formData")
    if form is not None:
        rendered = ctx.render(form)
        if not isinstance(rendered, dict):
            raise base.TaskFailure("`formData` must be a map")
        if content_type is not None and content_type.lower().startswith("multipart/form-data"):
            return _multipart(rendered)
        pairs = [(str(k), _form_value(v)) for k, v in rendered.items()]
        return urllib.parse.urlencode(pairs).encode(), "application/x-www-form-urlencoded"
    if properties.get("body") is not None:
        return _text(ctx.render(properties.get("body"))).encode("utf-8"), None
    return None, None


def _form_value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


def _multipart(form: dict[str, Any]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts: list[bytes] = []
    for name, value in form.items():
        if (isinstance(value, str) and value.startswith("kestra://")) or isinstance(value, dict):
            raise base.TaskFailure(f"`formData.{name}`: sending files is not supported yet")
        disposition = f'Content-Disposition: form-data; name="{_quoted(str(name))}"'
        parts.append(
            f"--{boundary}\r\n{disposition}\r\n\r\n".encode() + _form_value(value).encode()
        )
        parts.append(b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def _quoted(name: str) -> str:
    return name.replace("\\", "\\\\").replace('"', '\\"').replace("\r", " ").replace("\n", " ")


def _seconds(options: dict[str, Any], name: str, default: float) -> float:
    written = options.get(name)
    if written is None:
        return default
    try:
        value = durations.parse_duration(str(written))
    except ValueError as error:
        raise base.TaskFailure(f"`options.{name}`: {error}") from None
    if value <= timedelta(0):
        raise base.TaskFailure(f"`options.{name}` must be longer than zero")
    return value.total_seconds()


def _size(written: Any) -> int:
    if (
        isinstance(written, bool)
        or not isinstance(written, int | str)
        or not str(written).isdigit()
    ):
        raise base.TaskFailure(
            f"`options.maxContentLength` must be a number of bytes, got `{written}`"
        )
    size = int(written)
    if not 0 < size <= MAX_CONTENT_LENGTH:
        raise base.TaskFailure(
            f"`options.maxContentLength` must be between 1 and {MAX_CONTENT_LENGTH} bytes"
            " (the body is stored as an output)"
        )
    return size


def _header(reply: Reply, name: str) -> str | None:
    return next((v for k, v in reply.headers if k.lower() == name), None)


def _outputs(reply: Reply, options: dict[str, Any]) -> dict[str, Any]:
    headers: dict[str, list[str]] = {}
    for name, value in reply.headers:
        headers.setdefault(name.lower(), []).append(value)
    return {
        "uri": reply.uri,
        "code": reply.code,
        "headers": headers,
        "body": _decoded(reply, options),
    }


def _decoded(reply: Reply, options: dict[str, Any]) -> str | None:
    if not reply.body:
        return None
    message = email.message.Message()
    message["content-type"] = _header(reply, "content-type") or ""
    charset = message.get_content_charset() or str(options.get("defaultCharset") or "utf-8")
    try:
        return reply.body.decode(charset)
    except (LookupError, UnicodeDecodeError) as error:
        raise base.TaskFailure(
            f"the response body is not {charset} text ({error}); the Request task only keeps text"
        ) from None
