"""Server settings: one frozen dataclass, read once from the command line and the environment.

Environment variables: `TERCEL_TOKEN`, `TERCEL_ALLOWED_ORIGINS` (comma-separated origins),
`TERCEL_INTROSPECTION` (`0`/`false`/`off` turn it off) and one `TERCEL_MAX_*` variable per limit.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["Limits", "Settings"]

_FALSE = frozenset({"0", "false", "no", "off"})
_TRUE = frozenset({"1", "true", "yes", "on"})


@dataclass(frozen=True, slots=True)
class Limits:
    """GraphQL and HTTP limits (docs/semantics.md#api-limits)."""

    #: deepest field path of an operation (introspection fields are not counted)
    depth: int = 10
    #: tokens in one GraphQL document
    tokens: int = 2000
    #: aliases in one GraphQL document
    aliases: int = 15
    #: fields one GraphQL document selects once its fragments are expanded
    fields: int = 2000
    #: largest `first` of a connection
    page_max: int = 100
    #: largest HTTP request body, in bytes (413 above)
    body_bytes: int = 1024 * 1024
    #: largest multipart request (files of FILE inputs), in bytes (413 above)
    upload_bytes: int = 64 * 1024 * 1024
    #: time allowed for one operation, in seconds (`TIMEOUT` error after)
    operation_seconds: float = 30.0
    #: active subscriptions in the whole process (docs/semantics.md#subscriptions)
    subscriptions: int = 10_000
    #: batches queued per subscriber before it falls back to a database catch-up
    #: (docs/semantics.md#subscriptions)
    subscription_queue: int = 1024
    #: seconds a websocket may wait before `connection_init` (close 4408 after)
    connection_init_seconds: float = 10.0


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything `create_app` needs; build it with `from_args` or directly in tests."""

    #: the SQLite database file shared by the engine (writer) and the API (readers)
    db_path: str = "./tercel.db"
    host: str = "127.0.0.1"
    port: int = 8080
    #: directory whose flow files are deployed at start
    flows_dir: str | None = None
    #: the internal storage's folder (None: `<db_path>.files` beside the database)
    files_dir: str | None = None
    #: bearer token required on every request when set
    token: str | None = None
    #: origins allowed for CORS and websocket handshakes besides the server's own
    allowed_origins: tuple[str, ...] = ()
    #: schema introspection (GraphiQL needs it)
    introspection: bool = True
    #: accept permessage-deflate on websockets (off: event frames are small, and compressing
    #: each one per connection costs more CPU than it saves; on for slow links and big
    #: `executionUpdated` snapshots)
    ws_deflate: bool = False
    limits: Limits = field(default_factory=Limits)

    @classmethod
    def from_args(cls, args: argparse.Namespace, env: Mapping[str, str] | None = None) -> Settings:
        environ = os.environ if env is None else env
        origins = environ.get("TERCEL_ALLOWED_ORIGINS", "")
        return cls(
            db_path=args.db,
            host=args.host,
            port=args.port,
            flows_dir=args.flows,
            files_dir=getattr(args, "storage", None),
            token=args.token or environ.get("TERCEL_TOKEN") or None,
            allowed_origins=tuple(o.strip().rstrip("/") for o in origins.split(",") if o.strip()),
            introspection=environ.get("TERCEL_INTROSPECTION", "1").strip().lower() not in _FALSE,
            ws_deflate=environ.get("TERCEL_WS_DEFLATE", "").strip().lower() in _TRUE,
            limits=_limits(environ),
        )


def _limits(environ: Mapping[str, str]) -> Limits:
    base = Limits()
    return Limits(
        depth=int(environ.get("TERCEL_MAX_DEPTH", base.depth)),
        tokens=int(environ.get("TERCEL_MAX_TOKENS", base.tokens)),
        aliases=int(environ.get("TERCEL_MAX_ALIASES", base.aliases)),
        fields=int(environ.get("TERCEL_MAX_FIELDS", base.fields)),
        page_max=int(environ.get("TERCEL_MAX_PAGE", base.page_max)),
        body_bytes=int(environ.get("TERCEL_MAX_BODY_BYTES", base.body_bytes)),
        upload_bytes=int(environ.get("TERCEL_MAX_UPLOAD_BYTES", base.upload_bytes)),
        operation_seconds=float(environ.get("TERCEL_OPERATION_TIMEOUT", base.operation_seconds)),
        subscriptions=int(environ.get("TERCEL_MAX_SUBSCRIPTIONS", base.subscriptions)),
        subscription_queue=int(environ.get("TERCEL_SUBSCRIPTION_QUEUE", base.subscription_queue)),
        connection_init_seconds=float(
            environ.get("TERCEL_CONNECTION_INIT_TIMEOUT", base.connection_init_seconds)
        ),
    )
