"""`stillframe get-clip` against a real `stillframe serve`: a range longer than one GetClip request joins into one
MP4 with every frame once, in order, on a continuous timeline; audio kept; errors as one line, no file left."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import av
import pytest

from tests.conftest import T0
from tests.support.media_out import clip_frames
from tests.support.serve import put_media_cli, running_serve

FPS = 25


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory, clip_factory) -> Iterator[str]:
    """A serve with 'bframes' (8 s, 1 s GOPs with B-frames) and 'sound' (4 s with AAC), both from T0."""
    work = tmp_path_factory.mktemp("get-clip")
    with running_serve("--data-dir", str(work / "data")) as (url, _):
        sources = {
            "bframes": clip_factory(seconds=8, fps=FPS, gop=FPS, bframes=2, container="mp4"),
            "sound": clip_factory(seconds=4, fps=FPS, gop=FPS, container="mp4", audio=True),
            # open GOPs: three leading pictures before each later key frame, cut so fragments end with them
            "open": clip_factory(frames=24, fps=5, gop=8, bframes=3, width=160, height=96, encoder_params="open-gop=1"),
        }
        for name, data in sources.items():
            path = work / f"{name}.mp4"
            path.write_bytes(data)
            put_media_cli(url, name, str(path), "--retention-hours", "2", "--producer-start-time", str(T0))
        yield url


def get_clip(
    url: str, stream: str, start: float, end: float, out: Path, *extra: str
) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "stillframe.cli.main", "get-clip", "--endpoint-url", url, "--stream", stream]
    command += ["--start", str(T0 + start), "--end", str(T0 + end), "--out", str(out), *extra]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def test_a_range_over_several_pieces_joins_with_every_frame_once_on_one_timeline(endpoint, tmp_path: Path) -> None:
    # Given a range from mid-GOP (frame 13 at 0.52 s) to 6 s, asked for one fragment at a time
    out = tmp_path / "clip.mp4"
    result = get_clip(endpoint, "bframes", 0.52, 6.0, out, "--piece-fragments", "1")
    # Then one MP4 holds frames 13..150 once each, in order, 40 ms apart from time 0
    assert result.returncode == 0, result.stderr
    assert int(re.search(r"(\d+) GetClip pieces", result.stderr)[1]) >= 2
    frames = clip_frames(out.read_bytes())
    assert [number for number, _ in frames] == list(range(13, 151))
    assert [round(time, 3) for _, time in frames] == [round(i / FPS, 3) for i in range(len(frames))]
    # And no temporary file is left beside it
    assert [p.name for p in tmp_path.iterdir()] == ["clip.mp4"]


def test_a_piece_boundary_on_the_start_still_gives_the_same_frames_as_one_request(endpoint, tmp_path: Path) -> None:
    one, many = tmp_path / "one.mp4", tmp_path / "many.mp4"
    assert get_clip(endpoint, "bframes", 1.0, 7.96, one).returncode == 0
    assert get_clip(endpoint, "bframes", 1.0, 7.96, many, "--piece-fragments", "1").returncode == 0
    assert clip_frames(many.read_bytes()) == clip_frames(one.read_bytes())
    assert [number for number, _ in clip_frames(many.read_bytes())] == list(range(25, 200))


def test_open_gops_join_with_every_frame_once(endpoint, tmp_path: Path) -> None:
    # Given open-GOP video asked for one fragment at a time
    out = tmp_path / "clip.mp4"
    result = get_clip(endpoint, "open", 0.0, 4.8, out, "--piece-fragments", "1")
    # Then every frame is there once, at its time, the leading pictures of each key frame included
    assert result.returncode == 0, result.stderr
    assert int(re.search(r"(\d+) GetClip pieces", result.stderr)[1]) >= 2
    frames = clip_frames(out.read_bytes())
    assert [number for number, _ in frames] == list(range(24))
    assert [round(time * 5) for _, time in frames] == list(range(24))


def test_audio_is_kept_across_pieces(endpoint, tmp_path: Path) -> None:
    out = tmp_path / "sound.mp4"
    result = get_clip(endpoint, "sound", 0.0, 3.96, out, "--piece-fragments", "1")
    assert result.returncode == 0, result.stderr
    assert [number for number, _ in clip_frames(out.read_bytes())] == list(range(100))
    with av.open(str(out)) as clip:
        audio = clip.streams.audio[0]
        assert audio.codec_context.name == "aac"
        decoded = sum(frame.samples for frame in clip.decode(audio=0)) / audio.codec_context.sample_rate
    # every piece's audio, no second missing or doubled (AAC frames are ~21 ms)
    assert 3.9 <= decoded <= 4.05


@pytest.mark.parametrize(
    ("stream", "start", "end", "status", "message"),
    [
        ("nobody", 0.0, 2.0, 1, "stream nobody not found"),
        ("bframes", 100.0, 110.0, 1, "no media in bframes"),
        ("bframes", 2.0, 1.0, 2, "--end must be after --start"),
    ],
)
def test_errors_are_one_line_and_leave_no_file(endpoint, tmp_path: Path, stream, start, end, status, message) -> None:
    out = tmp_path / "clip.mp4"
    result = get_clip(endpoint, stream, start, end, out)
    assert result.returncode == status, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []
