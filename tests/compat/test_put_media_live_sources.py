"""Live sources into `stillframe serve`: a real encoder piped into one PutMedia session, and serve killed mid-session.

- GStreamer (Debian's packages; `make test` installs them) encodes painted frames with ``x264enc`` and muxes them with
  ``matroskamux streamable=true``, paced in real time; its stdout is sent as it comes as a chunked PutMedia with
  RELATIVE timecodes (matroskamux's start at 0). Every cluster starts on a key frame and becomes one fragment.
- ``kill -9`` of serve in the middle of an emulated SDK session, serve restarted on the same data directory and port:
  the producer reconnects and replays what was not PERSISTED, and the store holds each cluster once, nothing more.

The official C producer SDK (v1.6.0) cannot build in CI; run by hand against ``serve --https`` on 2026-12-07 it
stored 11 of 11 fragments with 0 error acks.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import av
import pytest

from tests.support.producer import EmulatedProducer, ProducerStream, frame_at, sdk_stream, session_clients
from tests.support.serve import free_port, serve_process
from tests.support.synth import make_clip, paint_frame

START_S = 1_795_600_800  # 2026-11-26T10:00:00Z: the producer start
START_MS = START_S * 1000
FPS = 25
LIVE_FRAMES = 20 * FPS  # 20 s of video, a key frame every second


def gst_pipeline(frames: Path) -> list[str]:
    """PNG frames -> H.264 -> streamable Matroska on stdout, at the pace of a camera (``identity sync=true``)."""
    source = f"multifilesrc location={frames}/frame-%05d.png index=0 stop-index={LIVE_FRAMES - 1}"
    pipeline = f"{source} caps=image/png,framerate={FPS}/1 ! pngdec ! identity sync=true ! videoconvert"
    pipeline += f" ! x264enc key-int-max={FPS} tune=zerolatency speed-preset=ultrafast"
    pipeline += " ! matroskamux streamable=true ! fdsink fd=1"
    return ["gst-launch-1.0", "-q", *pipeline.split()]


@pytest.fixture(scope="module")
def painted_frames(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Frames 0..499 as PNG files, each carrying its number."""
    if shutil.which("gst-launch-1.0") is None:
        pytest.skip("GStreamer is not installed (make test installs it: make gstreamer-deps)")
    frames = tmp_path_factory.mktemp("frames")
    for number in range(LIVE_FRAMES):
        paint_frame(number, 320, 240, FPS).save(frames / f"frame-{number:05d}.png")
    return frames


def key_frame_times_ms(media: bytes) -> list[int]:
    with av.open(io.BytesIO(media)) as container:
        stream = container.streams.video[0]
        return [int(p.pts * stream.time_base * 1000) for p in container.demux(stream) if p.size and p.is_keyframe]


def test_a_gstreamer_live_encoder_streams_in_and_every_cluster_is_one_frame_exact_fragment(
    tmp_path: Path, painted_frames: Path
) -> None:
    with serve_process("--data-dir", str(tmp_path / "data")) as (url, _, _):
        kinesisvideo, archived = session_clients(url)
        kinesisvideo.create_stream(StreamName="cam", DataRetentionInHours=1)
        # Given a live x264 + matroskamux pipeline, and a producer piping its output into one chunked PutMedia
        producer = EmulatedProducer(url, "cam", timecode_type="RELATIVE", producer_start_s=START_S)
        encoder = subprocess.Popen(gst_pipeline(painted_frames), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert encoder.stdout is not None
        # When the encoder runs for 20 s of video
        sent = producer.stream_live(encoder.stdout)
        assert encoder.wait(timeout=30) == 0, encoder.stderr.read() if encoder.stderr else ""
        # Then each cluster (one per key frame) was acked BUFFERING, RECEIVED, PERSISTED by its timecode, no ERROR
        session = producer.sessions[0]
        assert session.status == 200 and session.error is None
        clusters = key_frame_times_ms(sent)
        assert clusters == [k * 1000 for k in range(LIVE_FRAMES // FPS)]
        for event in ("BUFFERING", "RECEIVED", "PERSISTED"):
            assert [a["FragmentTimecode"] for a in session.acks if a["EventType"] == event] == clusters, event
        assert not [a for a in session.acks if a["EventType"] == "ERROR"]
        # And the acks came back while the encoder was still sending: the first PERSISTED long before the body ended
        first_persisted = next(
            t for a, t in zip(session.acks, session.ack_times, strict=True) if a["EventType"] == "PERSISTED"
        )
        assert session.body_ended_at is not None and session.body_ended_at - first_persisted > 10
        # And each cluster is one fragment at producer start + its timecode, numbered as acked
        fragments = archived.list_fragments(StreamName="cam")["Fragments"]
        assert sorted(round(f["ProducerTimestamp"].timestamp() * 1000) for f in fragments) == [
            START_MS + tc for tc in clusters
        ]
        assert sorted(f["FragmentNumber"] for f in fragments) == sorted(producer.persisted.values())
        # And stills across the whole range, the last frame included, show the frame the producer time names
        samples = [130 + 730 * k for k in range(27)] + [LIVE_FRAMES * 40 - 40]
        assert [frame_at(archived, "cam", START_MS + ms) for ms in samples] == [ms // 40 for ms in samples]


def test_serve_killed_mid_session_keeps_what_it_acked_and_the_replay_stores_every_cluster_once(
    tmp_path: Path,
) -> None:
    # Given serve on a fixed port, and an SDK-like producer streaming ten 1 s clusters in pieces, retrying refused
    # connections
    data = tmp_path / "data"
    media = sdk_stream(make_clip(seconds=10, fps=FPS, gop=FPS), start_ms=START_MS)
    timecodes = [tc for tc, _ in media.clusters]
    port = free_port()
    failures: list[BaseException] = []
    with serve_process("--data-dir", str(data), port=port) as (url, _, process):
        session_clients(url)[0].create_stream(StreamName="cam", DataRetentionInHours=1)
        producer = EmulatedProducer(url, "cam", reconnect_s=30)
        sender = threading.Thread(target=_run_catching, args=(producer, media, failures), daemon=True)
        sender.start()
        # When serve is killed (SIGKILL) in the middle of the fifth cluster: its first piece got BUFFERING
        fifth = timecodes[4]
        deadline = time.monotonic() + 20
        while not _acked(producer, "BUFFERING", fifth) and time.monotonic() < deadline:
            time.sleep(0.002)
        process.kill()
        process.wait(timeout=10)
        acked_before_kill = dict(producer.persisted)
    assert sorted(acked_before_kill) == timecodes[:4]
    # And restarted on the same directory and port, while the producer reconnects and replays
    with serve_process("--data-dir", str(data), port=port) as (restarted_url, _, _):
        assert restarted_url == url
        sender.join(timeout=60)
        assert not sender.is_alive() and not failures, failures
        _, archived = session_clients(url)
        fragments = archived.list_fragments(StreamName="cam")["Fragments"]
        # Then the first session broke, and a later one finished the job
        assert producer.sessions[0].error is not None and len(producer.sessions) >= 2
        # And every cluster is exactly one fragment; those acked before the kill kept their numbers
        stored = {round(f["ProducerTimestamp"].timestamp() * 1000) - START_MS: f["FragmentNumber"] for f in fragments}
        assert len(fragments) == len(stored) == len(timecodes) and sorted(stored) == [tc - START_MS for tc in timecodes]
        assert {tc - START_MS: number for tc, number in acked_before_kill.items()}.items() <= stored.items()
        # And every fragment reads back frame-exact, at its start and in its middle
        samples = [second * 1000 + offset for second in range(10) for offset in (0, 520)]
        assert [frame_at(archived, "cam", START_MS + ms) for ms in samples] == [ms // 40 for ms in samples]
    # And the store holds nothing more: a repair finds nothing to finish, undo or remove, and no temp file is left
    reindex = [sys.executable, "-m", "stillframe.cli.main", "reindex", "--data-dir", str(data)]
    repair = subprocess.run(
        [*reindex, "--all", "--grace-seconds", "0"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert repair.stdout.strip() == f"reindexed stream cam: {len(timecodes)} fragments"
    assert not [p for p in data.rglob("*") if p.is_file() and p.name.startswith("w-")]


def _acked(producer: EmulatedProducer, event: str, timecode: int) -> bool:
    acks = producer.sessions[0].acks if producer.sessions else []
    return any(a["EventType"] == event and a["FragmentTimecode"] == timecode for a in acks)


def _run_catching(producer: EmulatedProducer, media: ProducerStream, failures: list[BaseException]) -> None:
    try:
        producer.run(media, pace_s=0.6, pieces=10)
    except BaseException as exc:  # the test thread reports it
        failures.append(exc)
