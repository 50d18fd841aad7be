"""`stillframe serve` options for limits, the public URL and the secret from a file."""

from __future__ import annotations

import argparse
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from stillframe.cli.errors import UsageError
from stillframe.cli.main import build_parser
from stillframe.cli.serve import public_url, server_limits
from stillframe.cli.serve_gate import build_gate


def parse(*flags: str) -> argparse.Namespace:
    return build_parser().parse_args(["serve", *flags])


def bound(host: str, port: int = 4577) -> Any:
    return SimpleNamespace(server_address=(host, port), url=f"http://{host}:{port}")


def test_limit_flags_reach_the_server_limits() -> None:
    limits = server_limits(
        parse("--max-concurrent-requests", "3", "--max-queued-requests", "7", "--max-connections", "9")
    )
    assert (limits.max_concurrent_requests, limits.max_queued_requests, limits.max_connections) == (3, 7, 9)


def test_the_public_url_is_the_flag_or_the_bound_address(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STILLFRAME_PUBLIC_URL", raising=False)
    assert (
        public_url(parse("--public-url", "https://kvs.example/stage/"), bound("0.0.0.0")) == "https://kvs.example/stage"
    )
    assert public_url(parse(), bound("127.0.0.1")) == "http://127.0.0.1:4577"
    assert public_url(parse(), bound("0.0.0.0")) is None  # no one address fits every client: Host is used
    with pytest.raises(UsageError):
        public_url(parse("--public-url", "kvs.example"), bound("127.0.0.1"))


def test_the_secret_can_come_from_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    secret = tmp_path / "secret"
    secret.write_text("from-file\n")
    gate = build_gate(parse("--access-key-id", "AKID", "--secret-access-key-file", str(secret)), {})
    assert gate.verifier is not None
    assert gate.verifier.keys.find("AKID").secret_access_key == "from-file"  # type: ignore[union-attr]
    assert "warning" not in capsys.readouterr().err


def test_the_secret_flag_warns_that_ps_shows_it(capsys: pytest.CaptureFixture[str]) -> None:
    build_gate(parse("--access-key-id", "AKID", "--secret-access-key", "s3cret"), {})
    assert "process list" in capsys.readouterr().err


def test_flag_and_file_together_are_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "s").write_text("x")
    with pytest.raises(UsageError):
        build_gate(
            parse("--access-key-id", "A", "--secret-access-key", "x", "--secret-access-key-file", str(tmp_path / "s")),
            {},
        )
