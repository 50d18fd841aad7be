"""The audio track travels with the video: each fragment holds the audio of its span, every packet exactly once."""

from __future__ import annotations

import io
from fractions import Fraction

import av
import pytest

from stillframe.media.fragment import open_fragment
from stillframe.media.mkv_stream import ClusterComplete, read_clusters
from stillframe.media.split import MediaFragment, iter_fragments
from tests.support.producer import sdk_stream
from tests.support.synth import make_clip

FPS, GOP = 25, 25
FRAME = Fraction(1, FPS)


def audio_packets(data: bytes) -> list[tuple[Fraction, Fraction, bytes]]:
    """(start s, end s, payload) of each packet of the first audio track."""
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        tb = Fraction(stream.time_base)
        return [(p.pts * tb, (p.pts + p.duration) * tb, bytes(p)) for p in container.demux(stream) if p.size]


def audio_codec(data: bytes) -> str:
    with av.open(io.BytesIO(data)) as container:
        return container.streams.audio[0].codec_context.name


def assert_audio_follows_video(fragments: list[MediaFragment], source: bytes, codec: str) -> None:
    """Each fragment's audio lasts as long as its video (within a frame); the source's packets are all there, once."""
    stored = []
    for fragment in fragments:
        packets = audio_packets(fragment.data)
        assert audio_codec(fragment.data) == codec and fragment.audio_codec == codec
        audio_s = packets[-1][1] - packets[0][0]
        assert abs(audio_s - Fraction(fragment.duration_ms, 1000)) < FRAME, (fragment.pts_ms, audio_s)
        stored += [payload for _, _, payload in packets]
    assert stored == [payload for _, _, payload in audio_packets(source)]


@pytest.mark.parametrize(("container", "codec"), [("matroska", "aac"), ("mp4", "aac"), ("webm", "opus")])
def test_each_fragment_holds_the_audio_of_its_span(container: str, codec: str) -> None:
    # Given a 6 s clip with a tone track (AAC; Opus in WebM)
    source = make_clip(frames=150, fps=FPS, gop=GOP, width=64, height=48, container=container, audio=True)

    # When it is split into 2 s fragments
    fragments = list(iter_fragments(source, target_ms=2000))

    # Then each fragment carries the audio of its span, and every audio packet is stored exactly once
    assert [f.frame_count for f in fragments] == [50, 50, 50]
    assert_audio_follows_video(fragments, source, codec)


def test_a_producer_session_keeps_the_audio_of_each_cluster() -> None:
    # Given what a KVS producer sends for an A/V clip: one cluster per GOP, AAC interleaved as track 2
    source = make_clip(frames=100, fps=FPS, gop=GOP, width=64, height=48, audio=True)
    media = sdk_stream(source, start_ms=1_795_600_800_000)
    body = media.header + b"".join(data for _, data in media.clusters)

    # When each cluster is stored as one fragment, as the PutMedia session does
    clusters = [e for e in read_clusters([body], max_cluster_bytes=10**7) if isinstance(e, ClusterComplete)]
    fragments = [f for cluster in clusters for f in iter_fragments(cluster.media, target_ms=10**9)]

    # Then each fragment holds its cluster's second of video and the audio sent with it, none lost or repeated
    assert [f.frame_count for f in fragments] == [25] * 4
    assert_audio_follows_video(fragments, source, "aac")


def test_stills_read_the_same_frames_with_or_without_audio() -> None:
    # Given the same video stored with and without its audio
    with_audio = next(iter_fragments(make_clip(frames=50, fps=FPS, gop=GOP, width=64, height=48, audio=True)))
    video_only = next(iter_fragments(make_clip(frames=50, fps=FPS, gop=GOP, width=64, height=48)))
    with av.open(io.BytesIO(video_only.data)) as container:
        assert [s.type for s in container.streams] == ["video"]

    # When the fragment reader opens each
    heard, silent = open_fragment(with_audio.data), open_fragment(video_only.data)

    # Then it sees the same video frames, at the same times, and nothing of the audio
    assert heard.frames == silent.frames and len(heard.frames) == 50
    assert heard.duration_ms == silent.duration_ms == 2000
