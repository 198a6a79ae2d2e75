"""Settings read from the command line and the environment."""

from __future__ import annotations

import argparse

import pytest

from tercel import servecmd
from tercel.settings import Settings

ARGS = argparse.Namespace(db="x.db", host="127.0.0.1", port=8080, flows=None, token=None)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, False),
        ("", False),
        ("0", False),
        ("off", False),
        ("n", False),
        ("1", True),
        ("yes", True),
    ],
)
def test_websocket_compression_is_opt_in(value: str | None, expected: bool) -> None:
    env = {} if value is None else {"TERCEL_WS_DEFLATE": value}
    settings = Settings.from_args(ARGS, env)
    assert settings.ws_deflate is expected
    config = servecmd.uvicorn_config(object(), settings)
    assert config.ws_per_message_deflate is expected
