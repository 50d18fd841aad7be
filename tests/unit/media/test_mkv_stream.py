"""A producer's Matroska stream read cluster by cluster, as it arrives (media/mkv_stream.py)."""

from __future__ import annotations

import pytest

from stillframe.media.mkv_stream import ClusterComplete, ClusterStarted, StreamError, read_clusters
from tests.support.producer import ProducerStream, sdk_stream
from tests.support.synth import make_clip

START_MS = 1_795_600_800_000


@pytest.fixture(scope="module")
def media() -> ProducerStream:
    return sdk_stream(make_clip(seconds=3, fps=25, gop=25, width=64, height=48), start_ms=START_MS)


def body(media: ProducerStream) -> bytes:
    return media.header + b"".join(data for _, data in media.clusters)


def byte_by_byte(data: bytes) -> list[bytes]:
    return [data[i : i + 1] for i in range(len(data))]


def test_each_cluster_is_announced_by_its_timecode_then_delivered_whole(media: ProducerStream) -> None:
    # Given the SDK's stream, arriving one byte at a time (clusters of unknown size, tags between them)
    events = list(read_clusters(byte_by_byte(body(media)), max_cluster_bytes=10**7))
    # Then each cluster is started (as soon as its Timecode is in) and completed, in order
    timecodes = [tc for tc, _ in media.clusters]
    assert [(type(e).__name__, e.timecode) for e in events] == [
        (name, tc) for tc in timecodes for name in ("ClusterStarted", "ClusterComplete")
    ]
    complete = [e for e in events if isinstance(e, ClusterComplete)]
    assert all(e.key_frame_first and e.timecode_ms == e.timecode for e in complete)
    # And every cluster after the first carries the END_OF_FRAGMENT tags sent before it
    assert [b"AWS_KINESISVIDEO_END_OF_FRAGMENT" in e.tags for e in complete] == [False, True, True]


def test_a_completed_cluster_is_a_file_the_splitter_reads_alone(media: ProducerStream) -> None:
    from stillframe.media.split import iter_fragments

    complete = [e for e in read_clusters([body(media)], max_cluster_bytes=10**7) if isinstance(e, ClusterComplete)]
    pieces = [list(iter_fragments(e.media, target_ms=10**9)) for e in complete]
    assert [len(p) for p in pieces] == [1, 1, 1]
    assert [p[0].pts_ms for p in pieces] == [tc for tc, _ in media.clusters]
    assert [p[0].frame_count for p in pieces] == [25, 25, 25]


def test_a_cluster_is_known_complete_when_the_next_element_begins_not_at_the_next_chunk(
    media: ProducerStream,
) -> None:
    # Given the header and the first cluster with its tags, and the stream still open
    arrived: list[bytes] = [media.header, media.clusters[0][1]]

    def chunks():
        yield from arrived
        raise AssertionError("read past what had arrived")  # the producer has sent nothing more yet

    events = read_clusters(chunks(), max_cluster_bytes=10**7)
    # Then the first cluster completes without waiting for more (its tags ended it)
    assert isinstance(next(events), ClusterStarted)
    assert isinstance(next(events), ClusterComplete)


def test_a_new_ebml_header_starts_a_new_segment(media: ProducerStream) -> None:
    restarted = body(media) + body(media)
    complete = [e for e in read_clusters([restarted], max_cluster_bytes=10**7) if isinstance(e, ClusterComplete)]
    assert len(complete) == 6


@pytest.mark.parametrize(
    ("mangle", "error_id", "says"),
    [
        (lambda m: m.clusters[0][1], 4006, "before the stream.s Tracks"),
        (
            lambda m: m.header[: m.header.index(b"\x16\x54\xae\x6b")] + m.clusters[0][1],
            4006,
            "before the stream's Tracks",
        ),
        (lambda m: m.header + m.clusters[0][1][:-60], 4006, "ended inside"),
    ],
    ids=["no-header", "no-tracks", "cut-short"],
)
def test_what_no_producer_sends_is_a_stream_error(media: ProducerStream, mangle, error_id: int, says: str) -> None:
    with pytest.raises(StreamError, match=says) as raised:
        list(read_clusters([mangle(media)], max_cluster_bytes=10**7))
    assert raised.value.error_id == error_id


def test_a_cluster_larger_than_the_limit_is_refused_before_it_is_all_held(media: ProducerStream) -> None:
    with pytest.raises(StreamError, match="larger than") as raised:
        list(read_clusters([body(media)], max_cluster_bytes=1000))
    assert raised.value.error_id == 4001
