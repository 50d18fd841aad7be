"""`stillframe serve` set-up: the handler's environment, the NextToken secret, and proxy translation rules."""

from __future__ import annotations

import argparse
import base64
import stat
from pathlib import Path

import pytest

from stillframe.cli.errors import UsageError
from stillframe.cli.serve_environment import prepare_environment
from stillframe.server import decode_response, is_text_type


def serve_args(**overrides: object) -> argparse.Namespace:
    values: dict[str, object] = {"data_dir": "unused", "bucket": None, "prefix": "", "token_secret_file": None}
    values.update(overrides)
    return argparse.Namespace(**values)


def test_local_mode_environment_and_a_private_secret(tmp_path: Path) -> None:
    # Given a fresh data directory
    data_dir = tmp_path / "data"
    env: dict[str, str] = {}

    # When serve prepares the handler's environment
    location = prepare_environment(serve_args(data_dir=str(data_dir)), env)

    # Then the handler is pointed at the directory, with telemetry off and a quiet log
    assert location == str(data_dir.resolve())
    assert env["STILLFRAME_STORE"] == "local" and env["STILLFRAME_DATA_DIR"] == str(data_dir.resolve())
    assert env["POWERTOOLS_METRICS_DISABLED"] == "true" and env["POWERTOOLS_TRACE_DISABLED"] == "true"
    assert env["POWERTOOLS_LOG_LEVEL"] == "WARNING"
    # And a random secret was written readable by the owner only, and handed over
    secret_file = data_dir / "token-secret"
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert env["STILLFRAME_TOKEN_SECRET"] == secret_file.read_text().strip()
    assert len(env["STILLFRAME_TOKEN_SECRET"]) >= 32


def test_secret_survives_restarts(tmp_path: Path) -> None:
    # Given a first start / When serve starts again on the same directory / Then it reuses the secret
    first: dict[str, str] = {}
    second: dict[str, str] = {}
    prepare_environment(serve_args(data_dir=str(tmp_path)), first)
    prepare_environment(serve_args(data_dir=str(tmp_path)), second)
    assert first["STILLFRAME_TOKEN_SECRET"] == second["STILLFRAME_TOKEN_SECRET"]


def test_other_data_dirs_get_other_secrets(tmp_path: Path) -> None:
    one: dict[str, str] = {}
    two: dict[str, str] = {}
    prepare_environment(serve_args(data_dir=str(tmp_path / "a")), one)
    prepare_environment(serve_args(data_dir=str(tmp_path / "b")), two)
    assert one["STILLFRAME_TOKEN_SECRET"] != two["STILLFRAME_TOKEN_SECRET"]


def test_user_settings_win(tmp_path: Path) -> None:
    # Given the user enabled metrics, chose a log level and a secret
    env = {"POWERTOOLS_METRICS_DISABLED": "false", "POWERTOOLS_LOG_LEVEL": "DEBUG", "STILLFRAME_TOKEN_SECRET": "mine"}

    # When serve prepares the environment / Then their choices stand
    prepare_environment(serve_args(data_dir=str(tmp_path)), env)
    assert env["POWERTOOLS_METRICS_DISABLED"] == "false" and env["POWERTOOLS_LOG_LEVEL"] == "DEBUG"
    assert env["STILLFRAME_TOKEN_SECRET"] == "mine"
    assert not (tmp_path / "token-secret").exists()


def test_bucket_mode_reads_the_secret_file(tmp_path: Path) -> None:
    secret_file = tmp_path / "secret"
    secret_file.write_text("s3-secret\n")
    env: dict[str, str] = {}
    location = prepare_environment(serve_args(bucket="media", prefix="kvs/", token_secret_file=secret_file), env)
    assert location == "s3://media/kvs/"
    assert (env["STILLFRAME_STORE"], env["STILLFRAME_BUCKET"], env["STILLFRAME_PREFIX"]) == ("s3", "media", "kvs/")
    assert env["STILLFRAME_TOKEN_SECRET"] == "s3-secret"


def test_bucket_mode_without_a_secret_is_refused() -> None:
    with pytest.raises(UsageError, match="--token-secret-file"):
        prepare_environment(serve_args(bucket="media"), {})


def test_empty_secret_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "token-secret").write_text("\n")
    with pytest.raises(UsageError, match="is empty"):
        prepare_environment(serve_args(data_dir=str(tmp_path)), {})


@pytest.mark.parametrize(
    ("content_type", "text"),
    [
        ("application/json", True),
        ("application/x-amz-json-1.1; charset=utf-8", True),
        ("text/plain", True),
        ("application/problem+json", True),
        ("application/octet-stream", False),
        ("video/x-matroska", False),
        ("", False),
    ],
)
def test_which_bodies_pass_as_text(content_type: str, text: bool) -> None:
    assert is_text_type(content_type) is text


def test_response_headers_merge_as_api_gateway_does() -> None:
    # Given a response with both header maps, a shared pair, a base64 body and a length the server must own
    response = {
        "statusCode": 201,
        "headers": {"X-One": "a", "X-Both": "same", "Content-Length": "999"},
        "multiValueHeaders": {"X-Both": ["same", "other"], "Set-Cookie": ["c=1", "d=2"]},
        "body": base64.b64encode(b"\x00\xffbin").decode(),
        "isBase64Encoded": True,
    }

    # When decoded
    status, headers, payload = decode_response(response)

    # Then every multi value is kept, single headers are added once, the length is dropped, the body decoded
    assert status == 201
    assert sorted(headers) == sorted(
        [("X-Both", "same"), ("X-Both", "other"), ("Set-Cookie", "c=1"), ("Set-Cookie", "d=2"), ("X-One", "a")]
    )
    assert payload == b"\x00\xffbin"
