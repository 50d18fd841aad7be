"""The Runtime API server on its own: a fake runtime client over plain HTTP, then the real awslambdaric."""

from __future__ import annotations

import http.client
import json
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from localstack_host_executor.runtime_api import INIT_ERROR_PATH, NEXT_PATH, Invocation, RuntimeApiServer

RUNTIME_PYTHON = Path(__file__).resolve().parents[3] / ".venv-lambda-runtime" / "bin" / "python"


@pytest.fixture
def api() -> Iterator[RuntimeApiServer]:
    server = RuntimeApiServer()
    yield server
    server.close()


def invocation(request_id: str, body: bytes = b'{"n": 1}') -> Invocation:
    return Invocation(request_id, body, int(time.time() * 1000) + 5000, "arn:aws:lambda:us-east-1:0:function:f", "t")


def call(api: RuntimeApiServer, method: str, path: str, body: bytes | None = None) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection(api.address, timeout=5)
    connection.request(method, path, body)
    response = connection.getresponse()
    response.read()
    return response


def test_next_delivers_the_event_with_its_headers_and_the_response_is_its_outcome(api: RuntimeApiServer) -> None:
    # Given a runtime polling for work
    got: dict[str, object] = {}

    def runtime() -> None:
        connection = http.client.HTTPConnection(api.address, timeout=5)
        connection.request("GET", NEXT_PATH)
        response = connection.getresponse()
        got["body"], got["headers"] = response.read(), dict(response.headers)
        request_id = response.headers["Lambda-Runtime-Aws-Request-Id"]
        got["status"] = call(api, "POST", f"/2018-06-01/runtime/invocation/{request_id}/response", b'"done"').status

    thread = threading.Thread(target=runtime)
    thread.start()
    # When an invocation is submitted
    assert api.ready.wait(5)
    api.submit(invocation("req-1"))
    outcome = api.wait_outcome("req-1", 5, alive=lambda: True)
    thread.join(5)
    # Then the runtime saw the event and AWS's headers, and its answer is the outcome
    assert outcome is not None and outcome.payload == b'"done"' and not outcome.is_error
    assert got["body"] == b'{"n": 1}' and got["status"] == 202
    headers = got["headers"]
    assert isinstance(headers, dict)
    assert headers["Lambda-Runtime-Aws-Request-Id"] == "req-1"
    assert headers["Lambda-Runtime-Invoked-Function-Arn"] == "arn:aws:lambda:us-east-1:0:function:f"


def test_an_error_post_is_an_error_outcome_and_init_errors_are_kept(api: RuntimeApiServer) -> None:
    # Given a runtime that posts an error for an invocation, and one that fails its init
    error = b'{"errorType": "ValueError", "errorMessage": "boom"}'
    assert call(api, "POST", "/2018-06-01/runtime/invocation/req-2/error", error).status == 202
    assert call(api, "POST", INIT_ERROR_PATH, b'{"errorType": "Runtime.ImportModuleError"}').status == 202
    # Then both are recorded as they were sent
    outcome = api.wait_outcome("req-2", 1, alive=lambda: True)
    assert outcome is not None and outcome.is_error and outcome.payload == error
    assert api.init_error == b'{"errorType": "Runtime.ImportModuleError"}'
    assert call(api, "GET", "/2018-06-01/runtime/nothing").status == 404


def test_waiting_stops_when_the_runtime_dies_or_time_runs_out(api: RuntimeApiServer) -> None:
    started = time.monotonic()
    assert api.wait_outcome("never", 5, alive=lambda: False) is None
    assert api.wait_outcome("never", 0.2, alive=lambda: True) is None
    assert time.monotonic() - started < 1


def test_close_releases_a_blocked_next(api: RuntimeApiServer) -> None:
    statuses: list[int] = []
    thread = threading.Thread(target=lambda: statuses.append(call(api, "GET", NEXT_PATH).status))
    thread.start()
    assert api.ready.wait(5)
    api.close()
    thread.join(5)
    assert statuses == [410]


@pytest.mark.skipif(not RUNTIME_PYTHON.exists(), reason="no .venv-lambda-runtime (scripts/localstack.sh up full)")
def test_awslambdaric_runs_invocations_back_to_back(api: RuntimeApiServer, tmp_path: Path) -> None:
    # Given the real runtime client with a handler that echoes
    (tmp_path / "fn.py").write_text("def handler(event, context):\n    return {'n': event['n']}\n")
    env = {"AWS_LAMBDA_RUNTIME_API": api.address, "PYTHONPATH": str(tmp_path)}
    process = subprocess.Popen([str(RUNTIME_PYTHON), "-m", "awslambdaric", "fn.handler"], cwd=tmp_path, env=env)
    try:
        assert api.ready.wait(20)
        # When invocations follow each other
        durations = []
        for n in range(3):
            started = time.monotonic()
            api.submit(invocation(f"req-{n}", json.dumps({"n": n}).encode()))
            outcome = api.wait_outcome(f"req-{n}", 5, alive=lambda: process.poll() is None)
            durations.append(time.monotonic() - started)
            # Then each answer belongs to its event, and none waits on the transport (Nagle would add ~40 ms)
            assert outcome is not None and json.loads(outcome.payload) == {"n": n}
        assert max(durations[1:]) < 0.03
    finally:
        process.kill()
        process.wait()
