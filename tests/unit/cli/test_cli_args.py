"""Argument parsing and the errors a user can make: one line on stderr, exit status 2, no traceback."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from stillframe import __version__
from stillframe.cli.arguments import parse_producer_start
from stillframe.cli.main import main


def run_main(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    try:
        status = main(list(argv))
    except SystemExit as exc:  # argparse exits by itself
        status = int(exc.code or 0)
    return status, capsys.readouterr().err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    # Given / When `stillframe --version`
    with pytest.raises(SystemExit) as done:
        main(["--version"])

    # Then it prints the package version and exits 0
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"stillframe {__version__}"


def test_a_command_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    # Given no subcommand / When run / Then usage error
    status, err = run_main(capsys)
    assert status == 2 and "COMMAND" in err


@pytest.mark.parametrize(
    ("text", "expected_ms"),
    [
        ("1714564800", 1_714_564_800_000),
        ("1714564800.25", 1_714_564_800_250),
        ("2024-05-01T12:00:00Z", 1_714_564_800_000),
        ("2024-05-01T14:00:00.5+02:00", 1_714_564_800_500),
        ("2024-05-01T12:00:00", 1_714_564_800_000),  # no offset: UTC
    ],
)
def test_producer_start_accepts_epoch_seconds_and_iso8601(text: str, expected_ms: int) -> None:
    assert parse_producer_start(text) == expected_ms


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("yesterday", "neither epoch seconds nor ISO-8601"),
        ("1714564800000", "looks like milliseconds"),
        ("-5", "after 1970"),
        ("nan", "after 1970"),
    ],
)
def test_producer_start_rejects_junk_clearly(text: str, complaint: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=complaint):
        parse_producer_start(text)


def test_junk_producer_start_is_a_usage_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    # Given a junk --producer-start-time
    clip = tmp_path / "clip.mkv"
    clip.write_bytes(b"x")

    # When put-media runs
    status, err = run_main(
        capsys, "put-media", "--endpoint-url", "http://127.0.0.1:9", "--stream", "cam",
        "--producer-start-time", "soon", str(clip),
    )  # fmt: skip

    # Then it exits 2 naming the flag
    assert status == 2
    assert "--producer-start-time: 'soon' is neither epoch seconds nor ISO-8601" in err


def test_missing_file_is_one_clear_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    # Given a file that does not exist / When put-media runs
    missing = tmp_path / "nope.mkv"
    status, err = run_main(capsys, "put-media", "--endpoint-url", "http://127.0.0.1:9", "--stream", "cam", str(missing))

    # Then exit 2 and exactly one line, no traceback
    assert status == 2
    assert err.strip().splitlines() == [f"stillframe put-media: error: {missing}: no such file"]


@pytest.mark.parametrize("url", ["ftp://host/x", "127.0.0.1:4566", "http://", "http://host:99999"])
def test_bad_endpoint_url_is_a_usage_error(capsys: pytest.CaptureFixture[str], tmp_path: Path, url: str) -> None:
    clip = tmp_path / "clip.mkv"
    clip.write_bytes(b"x")
    status, err = run_main(capsys, "put-media", "--endpoint-url", url, "--stream", "cam", str(clip))
    assert status == 2
    assert "--endpoint-url" in err and "Traceback" not in err


def test_retention_needs_create_stream(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    clip = tmp_path / "clip.mkv"
    clip.write_bytes(b"x")
    status, err = run_main(
        capsys, "put-media", "--endpoint-url", "http://127.0.0.1:9", "--stream", "cam", "--retention-hours", "48",
        str(clip),
    )  # fmt: skip
    assert status == 2 and "--retention-hours only applies with --create-stream" in err


def test_create_stream_help_states_the_default_retention(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["put-media", "--help"])
    assert "default: 24" in capsys.readouterr().out


def test_serve_prefix_needs_bucket(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, err = run_main(capsys, "serve", "--data-dir", str(tmp_path), "--prefix", "p/")
    assert status == 2 and "--prefix only applies with --bucket" in err


def test_serve_data_dir_and_bucket_exclude_each_other(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, err = run_main(capsys, "serve", "--data-dir", str(tmp_path), "--bucket", "b")
    assert status == 2 and "not allowed with argument" in err


def test_reindex_missing_dir(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, err = run_main(capsys, "reindex", "--data-dir", str(tmp_path / "none"), "--stream", "cam")
    assert status == 2 and "no such directory" in err


def test_reindex_rebuilds_lost_markers(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    # Given a stream whose index markers were lost, but whose fragment blobs survive
    from stillframe.catalog.fragments import FragmentIndex
    from stillframe.catalog.keys import FragmentRecord
    from stillframe.catalog.streams import StreamCatalog
    from stillframe.storage.local import LocalDirectoryStore

    store = LocalDirectoryStore(tmp_path)
    stream = StreamCatalog(store, region="us-east-1", account_id="000000000000").create("cam", retention_hours=1)
    record = FragmentRecord(stream.media_id, "1", 5_000, 4_000, 2_000, 3)
    FragmentIndex(store).add(record, b"abc")
    for timeline in ("server", "producer"):
        store.delete(record.marker_key(timeline))

    # When `stillframe reindex` runs
    status = main(["reindex", "--data-dir", str(tmp_path), "--stream", "cam"])

    # Then the fragment is found by time again, and the command said how many it indexed
    assert status == 0
    assert [r for _, r in FragmentIndex(store).scan(stream.media_id, "producer", 0, 10_000)] == [record]
    assert capsys.readouterr().out.strip() == "reindexed stream cam: 1 fragments (markers added 2)"


def test_reindex_unknown_stream(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, err = run_main(capsys, "reindex", "--data-dir", str(tmp_path), "--stream", "ghost")
    assert status == 1 and "ghost" in err
