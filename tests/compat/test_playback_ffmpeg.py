"""serve's HLS sessions read by the ffmpeg CLI (Debian's; `make test` installs it): ffprobe counts the frames of the
master playlist's URL, ``ffmpeg -c copy`` saves them to MP4, and PyAV reads back each frame's painted number and time.

The session URL comes from boto3's GetHLSStreamingSessionURL on serve; ffmpeg follows master -> media playlist ->
init and media segments (fMP4) or TS segments on its own, over HTTP, as any HLS client would.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import T0
from tests.support.playback import decoded_frames
from tests.support.producer import session_clients
from tests.support.serve import put_media_cli, running_serve

FPS = 25
FIRST_FRAME, FRAMES = 50, 200  # 2 s .. 8 s: the four 2 s fragments starting in the range, frames 50..249

pytestmark = pytest.mark.skipif(shutil.which("ffprobe") is None, reason="needs the ffmpeg CLI (make ffmpeg-deps)")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, clip_factory) -> Iterator[str]:
    """serve holding 12 s of 25 fps H.264 (a key frame every 2 s) from producer time T0."""
    work = tmp_path_factory.mktemp("ffmpeg")
    clip = work / "clip.mkv"
    clip.write_bytes(clip_factory(seconds=12, fps=FPS, gop=50))
    with running_serve("--data-dir", str(work / "data")) as (url, _):
        put_media_cli(url, "cam", str(clip), "--producer-start-time", str(T0))
        yield url


def session_url(url: str, container: str) -> str:
    _, archived = session_clients(url)
    return archived.get_hls_streaming_session_url(
        StreamName="cam",
        PlaybackMode="ON_DEMAND",
        ContainerFormat=container,
        HLSFragmentSelector={
            "FragmentSelectorType": "PRODUCER_TIMESTAMP",
            "TimestampRange": {"StartTimestamp": T0 + 2, "EndTimestamp": T0 + 8},
        },
    )["HLSStreamingSessionURL"]


def run(command: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize("container", ["FRAGMENTED_MP4", "MPEG_TS"])
def test_ffprobe_counts_every_frame_of_the_session_without_a_warning(served, container) -> None:
    # When ffprobe decodes every frame behind the master playlist's URL
    url = session_url(served, container)
    entries = ["-show_entries", "stream=codec_name,nb_read_frames"]
    probe = run(["ffprobe", "-v", "warning", "-count_frames", "-select_streams", "v:0", "-of", "json", *entries, url])
    # Then it finds the range's 200 H.264 frames, and nothing to warn about (no corrupt packet at segment joins)
    assert probe.returncode == 0, probe.stderr
    assert json.loads(probe.stdout)["streams"] == [{"codec_name": "h264", "nb_read_frames": str(FRAMES)}]
    assert probe.stderr == ""


@pytest.mark.parametrize("container", ["FRAGMENTED_MP4", "MPEG_TS"])
def test_ffmpeg_stream_copy_saves_the_exact_frames_timed_from_zero(served, container, tmp_path: Path) -> None:
    # When `ffmpeg -i <session URL> -c copy` saves the session to MP4
    saved = tmp_path / "saved.mp4"
    copy = run(["ffmpeg", "-v", "warning", "-y", "-i", session_url(served, container), "-c", "copy", str(saved)])
    assert copy.returncode == 0 and copy.stderr == "", copy.stderr
    # Then the file holds frames 50..249 in order, frame k at k/25 s from 0
    frames = decoded_frames(saved.read_bytes())
    assert [number for number, _ in frames] == list(range(FIRST_FRAME, FIRST_FRAME + FRAMES))
    assert [round(seconds * FPS, 3) for _, seconds in frames] == list(range(FRAMES))
