"""The peers: the ffmpeg CLI and a naive PyAV loop, extracting the same samples from the same fragment files.

ffmpeg reads the fragments through a concat list with a ``duration`` line per fragment (without it, absolute
timestamps make the concat demuxer invent a long timeline) and picks frames with ``select`` by frame number,
which is exact; ``fps=...`` without ``round=up`` picks a frame ~half an interval late. ``-frames:v`` stops it
at the last sample instead of decoding the rest of the last fragment.
"""

from __future__ import annotations

import io
import itertools
import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import av

from bench.fixtures import StreamFixture
from bench.scenarios import OUTPUTS, Scenario, expected_frame
from bench.verify import check_frames

# mjpeg's qscale 3 gives files about the size of libjpeg quality 80 at 1080p on the bench content.
FFMPEG_JPEG_QSCALE = "3"


def covering(fixture: StreamFixture, samples: list[int]) -> list[int]:
    """Indices of the fragments from the one covering the first sample to the one covering the last."""

    def index_at(t_ms: int) -> int:
        for i, (start, duration) in enumerate(
            zip(fixture.fragment_starts_ms, fixture.fragment_durations_ms, strict=True)
        ):
            if start <= t_ms < start + duration:
                return i
        raise ValueError(f"no fragment covers {t_ms}")

    return list(range(index_at(samples[0]), index_at(samples[-1]) + 1))


def run_ffmpeg(scenario: Scenario, fixture: StreamFixture, samples: list[int]) -> dict[str, Any]:
    """Time the ffmpeg CLI (``-threads 1`` for method ffmpeg, its defaults for ffmpeg-mt) on the samples."""
    walls, rss = [], []
    with tempfile.TemporaryDirectory(prefix="bench-ffmpeg-") as tmp:
        command = _ffmpeg_command(scenario, fixture, samples, Path(tmp))
        for rep in range(scenario.reps):
            out = Path(tmp) / "out"
            out.mkdir(exist_ok=True)
            for old in out.iterdir():
                old.unlink()
            started = time.perf_counter()
            process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stderr=subprocess.PIPE)
            _, status, usage = os.wait4(process.pid, 0)
            walls.append(time.perf_counter() - started)
            process.returncode = os.waitstatus_to_exitcode(status)
            stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
            if process.returncode != 0:
                raise RuntimeError(f"ffmpeg failed ({process.returncode}): {stderr[-2000:]}")
            rss.append(usage.ru_maxrss / 1024)
            if rep == 0:
                images = [path.read_bytes() for path in sorted(out.iterdir())]
    return {
        "wall_s": walls,
        "images": len(images),
        "frames_decoded": None,
        "peak_rss_mb": max(rss),
        **check_frames(images, samples),
    }


def _ffmpeg_command(scenario: Scenario, fixture: StreamFixture, samples: list[int], tmp: Path) -> list[str]:
    """The ffmpeg command line; writes the concat list into ``tmp``."""
    indices = covering(fixture, samples)
    origin_frame = expected_frame(fixture.fragment_starts_ms[indices[0]])
    lines = ["ffconcat version 1.0"]
    for i in indices:
        lines += [f"file '{fixture.fragment_paths[i]}'", f"duration {fixture.fragment_durations_ms[i] / 1000:.3f}"]
    listing = tmp / "list.ffconcat"
    listing.write_text("\n".join(lines) + "\n")
    frames = [expected_frame(t) - origin_frame for t in samples]
    chain = f"select='{_frame_expression(frames)}'"
    image_format, width, height = OUTPUTS[scenario.output]
    if width is not None:
        chain += f",scale={width}:{height}:flags=bilinear"
    single = ["-threads", "1", "-filter_threads", "1"] if scenario.method == "ffmpeg" else []
    command = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", *single]
    command += ["-f", "concat", "-safe", "0", "-i", str(listing), "-an", "-vf", chain, "-fps_mode", "passthrough"]
    command += ["-frames:v", str(len(samples)), *single[:2]]
    if image_format == "JPEG":
        command += ["-c:v", "mjpeg", "-q:v", FFMPEG_JPEG_QSCALE, str(tmp / "out" / "%05d.jpg")]
    else:  # the same libavcodec PNG settings as Stillframe, so both do the same encoding work
        command += ["-c:v", "png", "-compression_level", "1", "-pred", "paeth", str(tmp / "out" / "%05d.png")]
    return command


def _frame_expression(frames: list[int]) -> str:
    """A select expression true exactly on these frame numbers (compact when they are evenly spaced)."""
    steps = {b - a for a, b in itertools.pairwise(frames)}
    if len(steps) == 1 and min(steps) > 0:  # a long eq() sum makes ffmpeg fail to allocate the expression
        return f"between(n,{frames[0]},{frames[-1]})*not(mod(n-{frames[0]},{steps.pop()}))"
    return "+".join(f"eq(n,{n})" for n in frames)


def run_naive(scenario: Scenario, fixture: StreamFixture, samples: list[int]) -> dict[str, Any]:
    """Time the obvious PyAV program: decode every frame of each fragment, keep the ones on screen, Pillow-encode."""
    walls = []
    images: list[bytes] = []
    decoded = 0
    for rep in range(scenario.reps):
        started = time.perf_counter()
        out, decoded = _naive_once(scenario, fixture, samples)
        walls.append(time.perf_counter() - started)
        if rep == 0:
            images = out
    return {"wall_s": walls, "images": len(images), "frames_decoded": decoded, **check_frames(images, samples)}


def _naive_once(scenario: Scenario, fixture: StreamFixture, samples: list[int]) -> tuple[list[bytes], int]:
    """One pass: PyAV's default decoder threading, ``to_image``, Pillow resize and save."""
    image_format, width, height = OUTPUTS[scenario.output]
    pending = list(samples)
    images, decoded = [], 0
    for index in covering(fixture, samples):
        start = fixture.fragment_starts_ms[index]
        end = start + fixture.fragment_durations_ms[index]
        shown, origin = None, None
        with av.open(fixture.fragment_paths[index]) as container:
            for frame in container.decode(video=0):
                decoded += 1
                pts_ms = round((frame.time or 0.0) * 1000)
                origin = pts_ms if origin is None else origin
                # samples before this frame's start showed the previous frame
                while pending and shown is not None and pending[0] < start + pts_ms - origin:
                    images.append(_encode(shown, image_format, width, height))
                    pending.pop(0)
                if not pending:  # the last sample is out; every frame before it was decoded
                    break
                shown = frame
        while pending and shown is not None and pending[0] < end:
            images.append(_encode(shown, image_format, width, height))
            pending.pop(0)
    return images, decoded


def _encode(frame: av.VideoFrame, image_format: str, width: int | None, height: int | None) -> bytes:
    picture = frame.to_image()
    if width is not None and height is not None:
        picture = picture.resize((width, height))
    buffer = io.BytesIO()
    picture.save(buffer, image_format, **({"quality": 80} if image_format == "JPEG" else {}))
    return buffer.getvalue()
