"""`stillframe put-media` with the real splitter on real files: refusals before any side effect, warnings that say
where a file is odd (timestamps restart, it ends early), against the fake service."""

from __future__ import annotations

import io
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from stillframe.cli.main import main


def put(capsys: pytest.CaptureFixture[str], url: str, path: Path, *extra: str) -> tuple[int, str]:
    status = main(["put-media", "--endpoint-url", url, "--stream", "cam", *extra, str(path)])
    return status, capsys.readouterr().err


def audio_only() -> bytes:
    out = io.BytesIO()
    with av.open(out, "w", format="mp4") as container:
        stream = container.add_stream("aac", rate=48000)
        for index in range(20):
            frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
            frame.sample_rate, frame.pts, frame.time_base = 48000, index * 1024, Fraction(1, 48000)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return out.getvalue()


def test_audio_only_file_creates_no_stream(fake_kvs: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Given an audio-only MP4
    path = tmp_path / "voice.m4a"
    path.write_bytes(audio_only())

    # When it is sent with --create-stream; Then it is refused (exit 2) and nothing at all was asked of the service
    status, err = put(capsys, fake_kvs.url, path, "--create-stream")
    assert status == 2 and "no video track" in err
    assert fake_kvs.requests == []


def test_mp4_without_its_index_says_so(
    fake_kvs: Any, tmp_path: Path, clip_factory: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given an MP4 cut off before its moov box (a recording that never finished)
    clip = clip_factory(frames=50, gop=25, width=160, height=96, container="mp4")
    path = tmp_path / "cut.mp4"
    path.write_bytes(clip[: clip.index(b"moov") - 4])

    # When it is sent; Then the message says what is wrong in a user's words, and nothing was created or sent
    status, err = put(capsys, fake_kvs.url, path, "--create-stream")
    assert status == 2
    assert "the MP4 index (moov) is missing: the file is incomplete" in err
    assert fake_kvs.requests == []


def test_a_file_that_ends_early_is_sent_with_a_warning(
    fake_kvs: Any, tmp_path: Path, clip_factory: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a 4 s Matroska file cut off after about 60% of its bytes
    clip = clip_factory(frames=100, gop=25, width=160, height=96)
    path = tmp_path / "cut.mkv"
    path.write_bytes(clip[: len(clip) * 6 // 10])

    # When it is sent; Then what is there is uploaded, and a warning says where the video stops
    status, err = put(capsys, fake_kvs.url, path)
    assert status == 0 and fake_kvs.put_requests
    assert "the file ends early: its video stops at 2." in err and "of the 4.000 s its header declares" in err


def test_joined_segments_are_one_timeline_with_a_warning(
    fake_kvs: Any, tmp_path: Path, clip_factory: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given two 2 s MPEG-TS segments joined with cat, both starting at timestamp zero
    first = clip_factory(frames=50, fps=25, gop=25, width=160, height=96, container="mpegts")
    second = clip_factory(
        frames=50, fps=25, gop=25, width=160, height=96, container="mpegts", start_number=50, first_pts=0
    )
    path = tmp_path / "joined.ts"
    path.write_bytes(first + second)

    # When it is sent; Then put-media says it found the restart, and reports all 4 s of video
    status, err = put(capsys, fake_kvs.url, path)
    assert status == 0
    assert "the timestamps restart" in err and "continues the timeline" in err
    assert "4.000 s of video" in err
