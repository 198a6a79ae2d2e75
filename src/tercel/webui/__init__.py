"""The web UI's files, as built by `make ui` (Vite) into `webui/dist`, served by Starlette.

`/` redirects to `/ui/`; every `/ui/...` path that is not a hashed asset answers the app's
`index.html` (the app routes in the browser, so a deep link works as a full page load); hashed
assets under `/ui/assets/` are cached as immutable. GraphiQL's page (`GET /graphql` from a
browser) comes from the same build. Each page carries a strict Content-Security-Policy: nothing
but this server, no inline script; GraphiQL's page also allows the inline styles and data: fonts
its editor uses. A checkout whose UI was never built still serves a page that says how to build it.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

__all__ = ["DIST", "graphiql_page", "routes"]

#: where `make ui` (and the wheel's build hook) put the built files
DIST = Path(__file__).parent / "dist"

_ASSET_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
_HOST = re.compile(r"^[A-Za-z0-9.-]+(:[0-9]+)?$")
_IMMUTABLE = "public, max-age=31536000, immutable"


def _csp(request: Request, *, editor: bool) -> str:
    """Only this server: scripts and styles from it, fetch and websockets to it."""
    host = request.headers.get("host", "")
    sockets = f"ws://{host} wss://{host}" if _HOST.match(host) else ""
    style = "'self' 'unsafe-inline'" if editor else "'self'"
    fonts = "'self' data:" if editor else "'self'"
    return "; ".join(
        (
            "default-src 'none'",
            "script-src 'self'",
            f"style-src {style}",
            "img-src 'self' data:",
            f"font-src {fonts}",
            f"connect-src 'self' {sockets}".strip(),
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


def _page(request: Request, name: str, *, editor: bool) -> Response:
    headers = {
        "Content-Security-Policy": _csp(request, editor=editor),
        "Cache-Control": "no-cache",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
    }
    path = DIST / name
    if path.is_file():
        return HTMLResponse(path.read_text(encoding="utf-8"), headers=headers)
    return HTMLResponse(_NOT_BUILT.format(page=html.escape(name)), status_code=503, headers=headers)


_NOT_BUILT = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Tercel</title>
</head><body><main><h1>The web UI is not built</h1>
<p>This checkout has no <code>src/tercel/webui/dist/{page}</code>. Build it with
<code>make ui</code> (Node.js and npm needed), then reload this page. The GraphQL API works
without it: POST to <code>/graphql</code>.</p></main></body></html>"""


def graphiql_page(request: Request) -> Response:
    """GraphiQL, bundled with its React: works offline, subscriptions over the websocket."""
    return _page(request, "graphiql.html", editor=True)


async def _app_page(request: Request) -> Response:
    return _page(request, "index.html", editor=False)


async def _asset(request: Request) -> Response:
    name = request.path_params["name"]
    path = DIST / "assets" / name
    if not _ASSET_NAME.match(name) or not path.is_file():
        return Response("not found", status_code=404, media_type="text/plain")
    headers = {"Cache-Control": _IMMUTABLE, "X-Content-Type-Options": "nosniff"}
    return FileResponse(path, headers=headers)


async def _to_ui(request: Request) -> Response:
    return RedirectResponse("/ui/", status_code=307)


def routes() -> list[BaseRoute]:
    """The UI's routes, to add to the application's."""
    return [
        Route("/", _to_ui, methods=["GET", "HEAD"]),
        Route("/ui", _to_ui, methods=["GET", "HEAD"]),
        Route("/ui/assets/{name:path}", _asset, methods=["GET", "HEAD"]),
        Route("/ui/{path:path}", _app_page, methods=["GET", "HEAD"]),
    ]
