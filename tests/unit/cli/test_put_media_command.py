"""`stillframe put-media` end to end against a fake service: acks on stdout, progress and summary on stderr."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest

from stillframe.cli import put_media
from stillframe.cli.main import main
from stillframe.errors import MediaError


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    path = tmp_path / "clip.mkv"
    path.write_bytes(b"not parsed: the splitter is faked")
    return path


@pytest.fixture
def fake_splitter(monkeypatch: pytest.MonkeyPatch, make_chunks: Any) -> list[Any]:
    """Three 2 s chunks of a 6 s file; returns the list so a test can change it."""
    chunks = make_chunks(0, 2000, 4000)
    monkeypatch.setattr(put_media, "load_splitter", lambda: (lambda *_a, **_k: iter(chunks), lambda _src: 6000))
    return chunks


def put(capsys: pytest.CaptureFixture[str], url: str, clip: Path, *extra: str) -> tuple[int, str, str]:
    status = main(["put-media", "--endpoint-url", url, "--stream", "cam", *extra, str(clip)])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_upload_prints_acks_progress_and_summary(
    fake_kvs: Any, fake_splitter: list[Any], clip: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a service that persists everything
    # When a 6 s file is uploaded in three chunks with a fixed producer start
    status, out, err = put(capsys, fake_kvs.url, clip, "--producer-start-time", "2024-05-01T12:00:00Z")

    # Then stdout holds one PERSISTED ack per fragment, as JSON lines
    acks = [json.loads(line) for line in out.splitlines()]
    assert [a["EventType"] for a in acks] == ["PERSISTED"] * 3
    # And stderr has one plain progress line per chunk (not a TTY) and a summary with the producer range
    progress = [line for line in err.splitlines() if line.startswith("chunk ")]
    assert len(progress) == 3 and progress[-1].endswith("(100%)")
    assert "3 fragments persisted in 3 chunks" in err
    assert "2024-05-01T12:00:00.000Z" in err and "2024-05-01T12:00:06.000Z" in err
    assert status == 0


def test_default_producer_start_is_now_and_printed(
    fake_kvs: Any, fake_splitter: list[Any], clip: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given no --producer-start-time / When uploading / Then the chosen start is printed, and used
    status, _, err = put(capsys, fake_kvs.url, clip)
    line = next(line for line in err.splitlines() if line.startswith("producer start: "))
    epoch = line.split("(")[1].split(")")[0]
    assert fake_kvs.put_requests[0].headers["x-amzn-producer-start-timestamp"] == epoch
    assert status == 0


def test_unknown_stream_fails_with_the_aws_message(
    fake_kvs: Any, fake_splitter: list[Any], clip: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a service that does not know the stream
    fake_kvs.script = [404]

    # When uploading
    status, out, err = put(capsys, fake_kvs.url, clip)

    # Then exit 1 with the service's error on one line, and no traceback
    assert status == 1
    assert out == ""
    assert "stillframe put-media: error: ResourceNotFoundException: scripted 404" in err
    assert "Traceback" not in err


def test_error_acks_give_exit_status_1(
    fake_kvs: Any, fake_splitter: list[Any], clip: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_kvs.script = ["ok", "error-ack", "ok"]
    status, out, err = put(capsys, fake_kvs.url, clip)
    assert [json.loads(line)["EventType"] for line in out.splitlines()] == ["PERSISTED", "ERROR", "PERSISTED"]
    assert status == 1 and "1 fragments refused" in err


def test_server_down_is_one_line_at_once(
    fake_splitter: list[Any], clip: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given nothing listening on the port
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"

    # When uploading
    status, _, err = put(capsys, url, clip)

    # Then exit 1 asking whether serve runs there, before any upload attempt (no retries), no traceback
    assert status == 1
    assert err.splitlines()[-1].endswith(f"connection refused; is stillframe serve running at {url}?")
    assert "retrying" not in err and "Traceback" not in err


def test_unreadable_media_is_a_usage_error(
    fake_kvs: Any, clip: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given media the splitter cannot read
    def refuse(_source: str) -> int:
        raise MediaError("Invalid data found when processing input")

    monkeypatch.setattr(put_media, "load_splitter", lambda: (lambda *_a, **_k: iter([]), refuse))

    # When uploading / Then exit 2, one line, and nothing was sent
    status, _, err = put(capsys, fake_kvs.url, clip)
    assert status == 2
    assert err.strip().splitlines() == [
        f"stillframe put-media: error: cannot read media {clip}: Invalid data found when processing input"
    ]
    assert fake_kvs.requests == []


@pytest.mark.parametrize(
    ("create_status", "said"), [(200, "created stream cam (retention 48 h)"), (400, "already exists")]
)
def test_create_stream_first(
    fake_kvs: Any,
    fake_splitter: list[Any],
    clip: Path,
    capsys: pytest.CaptureFixture[str],
    create_status: int,
    said: str,
) -> None:
    # Given a service where the stream is new (200) or already exists (ResourceInUseException)
    fake_kvs.create_status = create_status

    # When uploading with --create-stream
    status, _, err = put(capsys, fake_kvs.url, clip, "--create-stream", "--retention-hours", "48")

    # Then CreateStream was called with the retention, and the upload went ahead either way
    create = fake_kvs.requests[0]
    assert create.path == "/createStream"
    assert json.loads(create.body) == {"StreamName": "cam", "DataRetentionInHours": 48}
    assert said in err
    assert len(fake_kvs.put_requests) == 3 and status == 0


def test_create_stream_defaults_to_24_hours(
    fake_kvs: Any, fake_splitter: list[Any], clip: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    put(capsys, fake_kvs.url, clip, "--create-stream")
    assert json.loads(fake_kvs.requests[0].body)["DataRetentionInHours"] == 24
