"""`stillframe serve` set-up: its settings (no environment writes), the NextToken secret, proxy translation rules."""

from __future__ import annotations

import argparse
import base64
import stat
from pathlib import Path

import pytest

from stillframe.cli.errors import UsageError
from stillframe.cli.serve_environment import quiet_powertools, serve_settings
from stillframe.server import decode_response, is_text_type


def serve_args(**overrides: object) -> argparse.Namespace:
    values: dict[str, object] = {"data_dir": "unused", "bucket": None, "prefix": "", "token_secret_file": None}
    values.update(overrides)
    return argparse.Namespace(**values)


def test_local_mode_settings_and_a_private_secret(tmp_path: Path) -> None:
    # Given a fresh data directory and an empty environment
    data_dir = tmp_path / "data"
    env: dict[str, str] = {}

    # When serve makes its settings
    settings, location = serve_settings(serve_args(data_dir=str(data_dir)), env, keys_file=None)

    # Then they point at the directory, and nothing was written into the environment
    assert location == str(data_dir.resolve())
    assert (settings.store, settings.data_dir, settings.auth) == ("local", str(data_dir.resolve()), "none")
    assert env == {}
    # And a random secret was written readable by the owner only, and handed over
    secret_file = data_dir / "token-secret"
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert settings.token_secret == secret_file.read_text().strip()
    assert len(settings.token_secret) >= 32


def test_powertools_is_kept_quiet_unless_the_user_chose(tmp_path: Path) -> None:
    quiet: dict[str, str] = {}
    quiet_powertools(quiet)
    assert quiet == {
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
    chosen = {"POWERTOOLS_METRICS_DISABLED": "false", "POWERTOOLS_LOG_LEVEL": "DEBUG"}
    quiet_powertools(chosen)
    assert chosen["POWERTOOLS_METRICS_DISABLED"] == "false" and chosen["POWERTOOLS_LOG_LEVEL"] == "DEBUG"


def test_secret_survives_restarts(tmp_path: Path) -> None:
    # Given a first start / When serve starts again on the same directory / Then it reuses the secret
    first, _ = serve_settings(serve_args(data_dir=str(tmp_path)), {}, keys_file=None)
    second, _ = serve_settings(serve_args(data_dir=str(tmp_path)), {}, keys_file=None)
    assert first.token_secret == second.token_secret


def test_other_data_dirs_get_other_secrets(tmp_path: Path) -> None:
    one, _ = serve_settings(serve_args(data_dir=str(tmp_path / "a")), {}, keys_file=None)
    two, _ = serve_settings(serve_args(data_dir=str(tmp_path / "b")), {}, keys_file=None)
    assert one.token_secret != two.token_secret


def test_user_settings_win(tmp_path: Path) -> None:
    # Given the user chose a secret and a time budget in the environment
    env = {"STILLFRAME_TOKEN_SECRET": "mine", "STILLFRAME_TIME_BUDGET_MS": "9000"}

    # When serve makes its settings / Then their choices stand
    settings, _ = serve_settings(serve_args(data_dir=str(tmp_path)), env, keys_file=None)
    assert (settings.token_secret, settings.time_budget_ms) == ("mine", 9000)
    assert not (tmp_path / "token-secret").exists()


def test_only_the_flag_turns_keys_auth_on(tmp_path: Path) -> None:
    # Given an environment that asks for keys auth from a secret (a deployed function's)
    env = {"STILLFRAME_AUTH": "keys", "STILLFRAME_KEYS_SECRET_ARN": "arn:aws:secretsmanager:x"}
    # When serve runs without --keys-file, and with one
    without, _ = serve_settings(serve_args(data_dir=str(tmp_path)), env, keys_file=None)
    keys = tmp_path / "keys.json"
    with_file, _ = serve_settings(serve_args(data_dir=str(tmp_path)), env, keys_file=keys)
    # Then only the flag's file is used, re-read at once
    assert without.auth == "none"
    assert (with_file.auth, with_file.keys_file, with_file.keys_secret_arn) == ("keys", str(keys), "")
    assert with_file.keys_cache_seconds == 0


def test_bucket_mode_reads_the_secret_file(tmp_path: Path) -> None:
    secret_file = tmp_path / "secret"
    secret_file.write_text("s3-secret\n")
    args = serve_args(bucket="media", prefix="kvs/", token_secret_file=secret_file)
    settings, location = serve_settings(args, {}, keys_file=None)
    assert location == "s3://media/kvs/"
    assert (settings.store, settings.bucket, settings.prefix) == ("s3", "media", "kvs/")
    assert settings.token_secret == "s3-secret"


def test_bucket_mode_without_a_secret_is_refused() -> None:
    with pytest.raises(UsageError, match="--token-secret-file"):
        serve_settings(serve_args(bucket="media"), {}, keys_file=None)


def test_empty_secret_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "token-secret").write_text("\n")
    with pytest.raises(UsageError, match="is empty"):
        serve_settings(serve_args(data_dir=str(tmp_path)), {}, keys_file=None)


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
