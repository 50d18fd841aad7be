"""Fixtures for CLI tests: a scripted fake PutMedia/CreateStream service on a real socket, fake chunks."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from stillframe.cli.logs import CLI_LOGGERS
from tests.support.offline import base_url, forget_host_aws_config, loopback_server, send_json


@dataclass(frozen=True)
class FakeChunk:
    """Stands in for a MediaFragment from the splitter."""

    data: bytes
    offset_ms: int
    duration_ms: int
    statement: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class FakeKvs:
    """What the fake service does: a script of answers for /putMedia, one per request, then plain success.

    Script entries: "ok", "drop" (close without answering), "store-then-drop" (store, then close without
    answering), "error-ack" (200 with an ERROR ack), or an HTTP status (answered in the AWS error shape).
    Like the real service it stores an identical fragment once.
    """

    url: str = ""
    script: list[Any] = field(default_factory=list)
    create_status: int = 200
    requests: list[Received] = field(default_factory=list)
    stored: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def put_requests(self) -> list[Received]:
        return [r for r in self.requests if r.path.endswith("/putMedia")]

    def store(self, received: Received) -> str:
        key = received.headers["x-amzn-producer-start-timestamp"] + hashlib.sha256(received.body).hexdigest()
        with self.lock:
            return self.stored.setdefault(key, str(91_000 + len(self.stored)))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Any

    def do_POST(self) -> None:
        fake: FakeKvs = self.server.fake
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        received = Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
        fake.requests.append(received)
        if self.path.endswith("/createStream"):
            self._create(fake.create_status)
            return
        if self.path.endswith("/getDataEndpoint"):  # like the deployed API without a session host
            self._error(400, "InvalidArgumentException", "This deployment cannot hold a streaming PutMedia session.")
            return
        action = fake.script.pop(0) if fake.script else "ok"
        if action in ("drop", "store-then-drop"):
            if action == "store-then-drop":
                fake.store(received)
            self.close_connection = True
            return
        if isinstance(action, int):
            self._error(action, "ResourceNotFoundException" if action == 404 else "SomeError", f"scripted {action}")
            return
        number = fake.store(received)
        ack = {"EventType": "PERSISTED", "FragmentTimecode": 0, "FragmentNumber": number}
        if action == "error-ack":
            ack = {"EventType": "ERROR", "FragmentTimecode": 0, "ErrorId": 4000, "ErrorCode": "INVALID_MKV_DATA"}
        send_json(self, 200, (json.dumps(ack) + "\n").encode())

    def _create(self, status: int) -> None:
        if status == 200:
            send_json(self, 200, b'{"StreamARN": "arn:aws:kinesisvideo:us-east-1:000000000000:stream/cam/1"}')
        else:
            self._error(status, "ResourceInUseException", "The stream cam already exists.")

    def _error(self, status: int, code: str, message: str) -> None:
        body = json.dumps({"__type": code, "message": message}).encode()
        send_json(self, status, body, {"x-amzn-ErrorType": code})

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def fake_kvs() -> Iterator[FakeKvs]:
    """A fake service on a loopback port; its ``url`` is the endpoint URL."""
    with loopback_server(_Handler) as server:
        fake = FakeKvs(url=base_url(server))
        server.fake = fake  # type: ignore[attr-defined]
        yield fake


@pytest.fixture(autouse=True)
def no_aws_config(monkeypatch: pytest.MonkeyPatch) -> None:
    """No credentials, profile or config from the machine running the tests."""
    forget_host_aws_config(monkeypatch)


@pytest.fixture(autouse=True)
def restore_cli_logging() -> Iterator[None]:
    """main() reconfigures logging; put it back so caplog keeps working in other tests."""
    root = logging.getLogger()
    saved_root = (list(root.handlers), root.level)
    saved = {
        name: (list(lg.handlers), lg.level, lg.propagate) for name in CLI_LOGGERS if (lg := logging.getLogger(name))
    }
    yield
    root.handlers[:], root.level = saved_root[0], saved_root[1]
    for name, (handlers, level, propagate) in saved.items():
        cli_logger = logging.getLogger(name)
        cli_logger.handlers[:] = handlers
        cli_logger.setLevel(level)
        cli_logger.propagate = propagate


@pytest.fixture
def make_chunks() -> Any:
    """``make_chunks(0, 4000, ...)``: fake chunks with distinct bodies at those offsets, 2 s each by default."""

    def make(*offsets_ms: int, duration_ms: int = 2000) -> list[FakeChunk]:
        return [FakeChunk(f"chunk-{i}".encode() * 100, offset, duration_ms) for i, offset in enumerate(offsets_ms)]

    return make
