"""`io.kestra.plugin.core.http.Request` against a real local server, through `tercel run`
(Kestra: RequestTest run, head, failed, form; docs/semantics.md#http-request)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path
from typing import Any

TERCEL = [sys.executable, "-m", "tercel"]
REQUEST = "io.kestra.plugin.core.http.Request"


def _run(tmp_path: Path, tasks: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    flow = tmp_path / "flow.yaml"
    flow.write_text(f"id: http\nnamespace: http.tests\ntasks:\n{tasks}")
    done = subprocess.run(
        [*TERCEL, "run", str(flow), "--json"], capture_output=True, text=True, timeout=60
    )
    return done, json.loads(done.stdout) if done.stdout.strip() else {}


def _outputs(execution: dict[str, Any], task_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(r for r in execution["taskRunList"] if r["taskId"] == task_id)
    return found["outputs"]


def test_requests_of_every_shape_and_their_outputs(tmp_path: Path, base_url: str) -> None:
    tasks = f"""
  - id: get
    type: {REQUEST}
    uri: {base_url}/hello
  - id: post
    type: {REQUEST}
    uri: "{base_url}/echo?{{{{ 'a' }}}}=1"
    method: POST
    contentType: application/json
    headers:
      X-Custom: "{{{{ outputs.get.code }}}}"
    body: '{{"n": {{{{ outputs.get.code }}}}}}'
  - id: form
    type: {REQUEST}
    uri: {base_url}/echo
    method: POST
    formData: {{hello: world, n: 2}}
  - id: multipart
    type: {REQUEST}
    uri: {base_url}/echo
    method: PUT
    contentType: multipart/form-data
    formData: {{hello: world}}
  - id: redirect
    type: {REQUEST}
    uri: {base_url}/redirect
  - id: auth
    type: {REQUEST}
    uri: {base_url}/echo
    options: {{basicAuthUser: ann, basicAuthPassword: s3cret, readTimeout: PT5S}}
  - id: failed
    type: {REQUEST}
    uri: {base_url}/hello417
    allowFailed: true
  - id: later
    type: {REQUEST}
    uri: {base_url}/hello417
    options: {{allowFailed: true}}
  - id: latin
    type: {REQUEST}
    uri: {base_url}/latin1
  - id: head
    type: {REQUEST}
    uri: {base_url}/big/512789
    method: HEAD
"""
    done, execution = _run(tmp_path, tasks)
    assert done.returncode == 0, done.stderr
    get = _outputs(execution, "get")
    assert (get["code"], get["body"]) == (200, '{ "hello": "world" }')
    assert get["uri"] == f"{base_url}/hello"
    assert get["headers"]["content-type"] == ["application/json"]
    assert get["headers"]["x-seen"] == ["one", "two"]
    post = json.loads(_outputs(execution, "post")["body"])
    assert post == {
        "method": "POST",
        "path": "/echo?a=1",
        "contentType": "application/json",
        "authorization": None,
        "custom": "200",
        "body": '{"n": 200}',
    }
    form = json.loads(_outputs(execution, "form")["body"])
    assert (form["contentType"], form["body"]) == (
        "application/x-www-form-urlencoded",
        "hello=world&n=2",
    )
    multipart = json.loads(_outputs(execution, "multipart")["body"])
    assert multipart["method"] == "PUT"
    assert multipart["contentType"].startswith("multipart/form-data; boundary=")
    assert 'name="hello"\r\n\r\nworld\r\n' in multipart["body"]
    redirect = _outputs(execution, "redirect")
    assert (redirect["code"], redirect["uri"]) == (200, f"{base_url}/hello")
    auth = json.loads(_outputs(execution, "auth")["body"])
    assert auth["authorization"] == "Basic YW5uOnMzY3JldA=="
    for task_id in ("failed", "later"):
        failed = _outputs(execution, task_id)
        assert (failed["code"], failed["body"]) == (417, '{ "hello": "world" }')
    assert _outputs(execution, "latin")["body"] == "café"
    head = _outputs(execution, "head")
    assert head["headers"]["content-length"] == ["512789"]  # Kestra's `head` test
    assert head["body"] is None


def _failure(tmp_path: Path, tasks: str) -> str:
    done, execution = _run(tmp_path, tasks)
    assert done.returncode == 1, done.stderr
    assert execution["state"]["current"] == "FAILED"
    return done.stderr


def test_a_failing_status_fails_the_task(tmp_path: Path, base_url: str) -> None:
    stderr = _failure(tmp_path, f"  - id: r\n    type: {REQUEST}\n    uri: {base_url}/hello417\n")
    assert f"Request to {base_url}/hello417 failed with response code 417" in stderr


def test_a_body_over_max_content_length_fails_with_a_clear_error(
    tmp_path: Path, base_url: str
) -> None:
    tasks = f"""  - id: r
    type: {REQUEST}
    uri: {base_url}/big/2000
    options: {{maxContentLength: 1000}}
"""
    assert "the response body is larger than maxContentLength (1000 bytes)" in _failure(
        tmp_path, tasks
    )


def test_read_timeout_stops_a_slow_answer(tmp_path: Path, base_url: str) -> None:
    tasks = f"""  - id: r
    type: {REQUEST}
    uri: {base_url}/slow
    options: {{readTimeout: PT0.5S}}
"""
    start = time.monotonic()
    stderr = _failure(tmp_path, tasks)
    assert f"reading the response of {base_url}/slow took longer than readTimeout (0.5 s)" in stderr
    assert time.monotonic() - start < 15


def test_an_option_tercel_does_not_run_and_a_refused_connection(tmp_path: Path) -> None:
    tasks = f"""  - id: r
    type: {REQUEST}
    uri: http://127.0.0.1:9/x
    options: {{proxyAddress: example.com}}
"""
    stderr = _failure(tmp_path, tasks)
    assert "`options.proxyAddress` is a Kestra Request option Tercel does not run" in stderr
    tasks = f"  - id: r\n    type: {REQUEST}\n    uri: http://127.0.0.1:9/x\n"
    assert "request to http://127.0.0.1:9/x failed: [Errno 111] Connection refused" in _failure(
        tmp_path, tasks
    )


def test_encrypt_body_is_refused_as_a_kestra_property(tmp_path: Path) -> None:
    flow = tmp_path / "flow.yaml"
    flow.write_text(
        f"id: h\nnamespace: h\ntasks:\n  - id: r\n    type: {REQUEST}\n    uri: http://x.io\n"
        "    encryptBody: true\n"
    )
    done = subprocess.run([*TERCEL, "validate", str(flow)], capture_output=True, text=True)
    assert done.returncode == 2, done.stderr
    assert (
        f"7:5: tasks[0].encryptBody: `encryptBody` is a property of Kestra's `{REQUEST}` that"
        " Tercel does not run" in done.stderr
    )


def test_a_uri_that_is_no_url_fails_naming_the_uri(tmp_path: Path) -> None:
    """urllib's bare `Invalid IPv6 URL` or `Port out of range 0-65535` named neither the
    property nor the value."""
    for uri, reason in (
        ("http://[::1", "Invalid IPv6 URL"),
        ("http://127.0.0.1:99999/x", "Port out of range 0-65535"),
        ("http://127.0.0.1:abc/x", "Port could not be cast to integer value as 'abc'"),
    ):
        stderr = _failure(tmp_path, f'  - id: r\n    type: {REQUEST}\n    uri: "{uri}"\n')
        assert f"`uri` is not a valid URL (`{uri}`): {reason}" in stderr, stderr[-600:]


def test_a_redirect_to_no_http_url_fails_naming_it(tmp_path: Path, base_url: str) -> None:
    """A redirect's `Location` was followed unchecked: `file:` and `ftp:` were requested as
    HTTP on port 80 of their host, and a bad port failed with urllib's bare words."""
    for location, reason in (
        ("file:///etc/passwd", "not an http or https URL"),
        ("ftp://example.invalid/y", "not an http or https URL"),
        ("http://127.0.0.1:99999/x", "Port out of range 0-65535"),
    ):
        uri = f"{base_url}/redirect-to/{urllib.parse.quote(location, safe='')}"
        stderr = _failure(tmp_path, f'  - id: r\n    type: {REQUEST}\n    uri: "{uri}"\n')
        expected = f"the redirect from {uri} to `{location}` cannot be followed: {reason}"
        assert expected in stderr, stderr[-600:]
