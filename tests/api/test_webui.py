"""The web UI's HTTP side: redirect, deep links, immutable assets, CSP, open without the token,
and the page a checkout whose UI was never built shows."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from tests.api.conftest import Server

from tercel import webui


@pytest.fixture
def built() -> None:
    """These tests need the built UI: `make ui` (which `make test` runs first)."""
    assert (webui.DIST / "index.html").is_file(), "the web UI is not built: run `make ui`"


def test_root_redirects_to_the_ui(api: Server) -> None:
    response = api.client.get(api.url + "/", follow_redirects=False)
    assert response.status_code == 307 and response.headers["location"] == "/ui/"


@pytest.mark.usefixtures("built")
@pytest.mark.parametrize(
    "path",
    ["/ui/", "/ui/executions", "/ui/executions/abc?tab=logs", "/ui/flows/a.b/c", "/ui/dashboard"],
)
def test_every_app_route_is_the_page_shell(api: Server, path: str) -> None:
    response = api.client.get(api.url + path)
    assert response.status_code == 200
    assert '<div id="app">' in response.text
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "default-src 'none'" in csp
    assert "unsafe" not in csp and "http" not in csp.replace("ws://", "").replace("wss://", "")
    assert response.headers["cache-control"] == "no-cache"


@pytest.mark.usefixtures("built")
def test_hashed_assets_are_immutable_and_local(api: Server) -> None:
    page = api.client.get(api.url + "/ui/executions").text
    assets = re.findall(r'(?:src|href)="(/ui/assets/[^"]+)"', page)
    assert assets, page
    for asset in assets:
        response = api.client.get(api.url + asset)
        assert response.status_code == 200, asset
        assert "immutable" in response.headers["cache-control"]
    assert "//" not in page.replace("http-equiv", "")


def test_unknown_or_crafted_asset_names_are_404(api: Server) -> None:
    for name in ["nope.js", "..%2F..%2Fapp.py", "%2e%2e"]:
        response = api.client.get(api.url + "/ui/assets/" + name)
        assert response.status_code == 404, name


@pytest.mark.usefixtures("built")
def test_graphiql_page_is_served_from_the_package(api: Server) -> None:
    response = api.client.get(api.url + "/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "/ui/assets/graphiql" in response.text
    assert "unpkg" not in response.text and "cdn" not in response.text.lower()
    assert "script-src 'self'" in response.headers["content-security-policy"]


@pytest.mark.usefixtures("built")
def test_the_ui_is_open_without_the_token(server_factory: Callable[..., Server]) -> None:
    secured = server_factory(token="webui-secret")
    assert httpx.get(secured.url + "/", follow_redirects=False).status_code == 307
    assert httpx.get(secured.url + "/ui/executions").status_code == 200
    assert httpx.get(secured.url + "/ui/assets/nope.js").status_code == 404
    refused = httpx.post(secured.url + "/graphql", json={"query": "{ namespaces }"})
    assert refused.status_code == 401


def test_a_checkout_without_a_build_says_how_to_build(
    api: Server, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(webui, "DIST", tmp_path / "missing")
    response = api.client.get(api.url + "/ui/executions")
    assert response.status_code == 503 and "make ui" in response.text
    page = api.client.get(api.url + "/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 503 and "make ui" in page.text
