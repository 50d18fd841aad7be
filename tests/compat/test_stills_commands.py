"""`stillframe get-images`, `list-fragments` and `timeline` against a real `stillframe serve` with boto3 inside.

The stream has video at T0..T0+6 s and T0+20..T0+24 s (tests.support.gapped); each saved still is checked by reading
its frame number back out of the picture.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image

from tests.support.gapped import GappedStream, ingest_gapped
from tests.support.serve import running_serve
from tests.support.synth import read_frame_number


@pytest.fixture(scope="module")
def gapped(tmp_path_factory: pytest.TempPathFactory, clip_factory) -> Iterator[tuple[str, GappedStream]]:
    work = tmp_path_factory.mktemp("stills")
    with running_serve("--data-dir", str(work / "data")) as (url, _):
        yield url, ingest_gapped(url, "porch", work, clip_factory)


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stillframe.cli.main", *args], capture_output=True, text=True, timeout=120
    )


def iso(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def test_get_images_saves_one_named_still_per_sample_and_lists_the_missing(gapped, tmp_path: Path) -> None:
    url, stream = gapped
    # Given a range from 1.52 s into the first clip to 2 s into the second (so across the gap), at 2 s
    start, end = stream.start_ms + 1520, stream.gap_end_ms + 2000
    # When get-images saves it
    result = cli(
        "get-images", "--endpoint-url", url, "--stream", "porch", "--start", iso(start), "--end", str(end / 1000),
        "--interval", "2000", "--out", str(tmp_path / "out"),
    )  # fmt: skip
    # Then every sample with video is a file named by its time, showing the frame on screen at that time
    assert result.returncode == 0, result.stderr
    times = range(start, end + 1, 2000)
    with_video = [t for t in times if stream.frame_at(t) is not None]
    files = sorted((tmp_path / "out").iterdir())
    assert [f.name for f in files] == [iso(t).replace(":", "-") + ".jpg" for t in with_video]
    assert files[0].name == "2026-11-25T10-00-01.520Z.jpg"
    assert [read_frame_number(f.read_bytes()) for f in files] == [stream.frame_at(t) for t in with_video]
    # And the samples in the gap are counted in the summary and listed by time
    missing = [t for t in times if stream.frame_at(t) is None]
    assert len(missing) == 7
    assert f"saved {len(with_video)} of {len(times)} stills" in result.stderr
    assert f"{len(missing)} without a still: {len(missing)} NO_MEDIA" in result.stderr
    for t in missing:
        assert f"  {iso(t)} NO_MEDIA" in result.stderr


def test_a_range_over_300_s_is_fetched_in_windows_and_the_contact_sheet_marks_gaps(gapped, tmp_path: Path) -> None:
    url, stream = gapped
    # Given a 320 s range at 4 s (more than one GetImages request may cover), PNG at 90 px high
    start = stream.start_ms
    sheet = tmp_path / "sheet.jpg"
    result = cli(
        "get-images", "--endpoint-url", url, "--stream", "porch", "--start", str(start / 1000),
        "--end", str(start / 1000 + 320), "--interval", "4000", "--format", "PNG", "--height", "90",
        "--out", str(tmp_path / "out"), "--contact-sheet", str(sheet),
    )  # fmt: skip
    # Then all 81 samples were answered: 2 stills in clip A (0 s, 4 s), 1 in B (20 s), the rest NO_MEDIA
    assert result.returncode == 0, result.stderr
    pngs = sorted((tmp_path / "out").glob("*.png"))
    assert [read_frame_number(p.read_bytes()) for p in pngs] == [0, 100, 1000]
    assert Image.open(pngs[0]).size == (120, 90)
    assert "saved 3 of 81 stills" in result.stderr and "78 NO_MEDIA" in result.stderr
    # And the contact sheet has a white header, a tile per sample, grey tiles for the missing ones
    picture = Image.open(sheet).convert("RGB")
    assert picture.size == (6 * 240, 56 + 14 * 157)
    assert picture.getpixel((10, 3)) == (255, 255, 255)
    assert read_frame_number(picture.crop((30, 56, 210, 56 + 135))) == 0  # 4:3 inside the 16:9 tile
    grey_tile = picture.getpixel((2 * 240 + 200, 56 + 120))  # third sample, 8 s: in the gap
    assert all(abs(channel - 200) < 8 for channel in grey_tile)


def test_timeline_prints_covered_ranges_and_the_gap(gapped) -> None:
    url, stream = gapped
    # When timeline reads the stream
    result = cli("timeline", "--endpoint-url", url, "--stream", "porch")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    # Then it shows both covered ranges with the gap between them, and the totals
    assert lines[0].startswith("porch (PRODUCER_TIMESTAMP): ")
    assert "10.000 s covered" in lines[0] and lines[0].endswith("1 gap")
    assert lines[1].startswith(f"covered  {iso(stream.start_ms)}  {iso(stream.gap_start_ms)}  6.000 s, ")
    assert lines[2] == f"gap      {iso(stream.gap_start_ms)}  {iso(stream.gap_end_ms)}  14.000 s"
    assert lines[3].startswith(f"covered  {iso(stream.gap_end_ms)}  {iso(stream.end_ms)}  4.000 s, ")


def test_list_fragments_prints_one_line_per_fragment_in_time_order(gapped) -> None:
    url, stream = gapped
    result = cli("list-fragments", "--endpoint-url", url, "--stream", "porch", "--end", str(stream.gap_start_ms / 1000))
    assert result.returncode == 0, result.stderr
    rows = result.stdout.splitlines()[1:]
    starts = [row.split()[1] for row in rows]
    assert starts == sorted(starts) and starts[0] == iso(stream.start_ms)
    assert all(row.split()[1] < iso(stream.gap_end_ms) for row in rows)  # --end left out the second clip
    assert f"{len(rows)} fragments" in result.stderr


@pytest.mark.parametrize(
    ("extra", "status", "message"),
    [
        (["--stream", "nobody"], 1, "stream nobody not found at"),
        (["--stream", "porch", "--interval", "100"], 2, "--interval must be at least 200 ms"),
        (["--stream", "porch", "--width", "100"], 2, "--width needs --height"),
        (["--stream", "porch", "--end", "1795600700"], 2, "--end is before --start"),
    ],
)
def test_errors_are_one_line_with_the_exit_status(gapped, tmp_path: Path, extra, status, message) -> None:
    url, stream = gapped
    args = ["get-images", "--endpoint-url", url, "--start", str(stream.start_ms / 1000), "--out", str(tmp_path)]
    if "--end" not in extra:
        args += ["--end", str(stream.start_ms / 1000 + 2)]
    result = cli(*args, *extra)
    assert result.returncode == status
    assert result.stderr.startswith("stillframe get-images: error: ") and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
