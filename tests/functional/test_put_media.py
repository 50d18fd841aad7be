"""PutMedia through the handler: acks, idempotence, refusal of bad media with nothing stored."""

from __future__ import annotations

import base64
from fractions import Fraction

from tests.conftest import T0
from tests.support.kvs import acks
from tests.support.synth import read_frame_number


def put(invoke, media: bytes, **headers):
    return invoke("/putMedia", media, headers={"x-amzn-stream-name": "cam", **headers})


def stored(invoke) -> list[str]:
    return [o.key for o in invoke.services.store.list("media/")]


def test_fragments_are_acked_and_listed(invoke, clip_factory):
    invoke("/createStream", {"StreamName": "cam", "DataRetentionInHours": 1})
    answer = put(invoke, clip_factory(seconds=6, fps=25, gop=50), **{"x-amzn-producer-start-timestamp": str(T0)})
    events = acks(answer)
    assert [e["EventType"] for e in events] == ["PERSISTED"] * 3
    assert [e["FragmentTimecode"] for e in events] == [0, 2000, 4000]
    numbers = [e["FragmentNumber"] for e in events]
    assert numbers == sorted(numbers, key=int) and len(set(numbers)) == 3
    listed = invoke(
        "/listFragments",
        {
            "StreamName": "cam",
            "FragmentSelector": {
                "FragmentSelectorType": "PRODUCER_TIMESTAMP",
                "TimestampRange": {"StartTimestamp": T0 + 1, "EndTimestamp": T0 + 10},
            },
        },
    )["body"]
    assert [(f["ProducerTimestamp"], f["FragmentLengthInMilliseconds"]) for f in listed["Fragments"]] == [
        (T0 + 2, 2000),
        (T0 + 4, 2000),
    ]


def test_same_upload_twice_is_stored_once(invoke, clip_factory):
    invoke("/createStream", {"StreamName": "cam", "DataRetentionInHours": 1})
    media = clip_factory(seconds=4, fps=25, gop=50)
    first = acks(put(invoke, media, **{"x-amzn-producer-start-timestamp": str(T0)}))
    files = stored(invoke)
    second = acks(put(invoke, media, **{"x-amzn-producer-start-timestamp": str(T0)}))
    assert [a["FragmentNumber"] for a in first] == [a["FragmentNumber"] for a in second]
    assert stored(invoke) == files
    assert len(invoke("/listFragments", {"StreamName": "cam"})["body"]["Fragments"]) == 2


def test_unparseable_media_is_refused_and_nothing_stored(invoke):
    invoke("/createStream", {"StreamName": "cam", "DataRetentionInHours": 1})
    answer = put(invoke, b"\x1a\x45\xdf\xa3 definitely not a video" * 50)
    assert answer["status"] == 400 and answer["body"]["__type"] == "InvalidArgumentException"
    assert stored(invoke) == []


def test_bad_headers_name_the_header(invoke, clip_factory):
    invoke("/createStream", {"StreamName": "cam", "DataRetentionInHours": 1})
    media = clip_factory(seconds=2, fps=25, gop=50)
    bad_type = put(invoke, media, **{"x-amzn-fragment-timecode-type": "SIDEWAYS"})
    bad_time = put(invoke, media, **{"x-amzn-producer-start-timestamp": "yesterday"})
    no_stream = invoke("/putMedia", media)
    assert bad_type["status"] == 400 and "x-amzn-fragment-timecode-type" in bad_type["body"]["message"]
    assert bad_time["status"] == 400 and "x-amzn-producer-start-timestamp" in bad_time["body"]["message"]
    assert no_stream["status"] == 400


def test_put_media_to_unknown_stream(invoke, clip_factory):
    answer = put(invoke, clip_factory(seconds=2, fps=25, gop=50))
    assert answer["status"] == 404


def absolute_mkv(media: bytes, start_ms: int) -> bytes:
    """Remux a clip into Matroska whose timecodes are absolute epoch milliseconds (KVS ABSOLUTE mode)."""
    import io

    import av

    source = av.open(io.BytesIO(media))
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="matroska") as output:
        stream = source.streams.video[0]
        track = output.add_stream_from_template(stream)
        track.time_base = Fraction(1, 1000)
        for packet in source.demux(stream):
            if packet.pts is None:
                continue
            to_ms = float(stream.time_base) * 1000
            packet.pts = start_ms + round(packet.pts * to_ms)
            packet.dts = start_ms + round(packet.dts * to_ms)
            packet.time_base = Fraction(1, 1000)
            packet.stream = track
            output.mux(packet)
    return buffer.getvalue()


def test_absolute_timecodes_are_producer_times(invoke, clip_factory):
    # Given media whose own timecodes are epoch ms (no producer start header)
    invoke("/createStream", {"StreamName": "cam", "DataRetentionInHours": 1})
    media = absolute_mkv(clip_factory(seconds=4, fps=25, gop=50), (T0 + 100) * 1000)
    events = acks(put(invoke, media, **{"x-amzn-fragment-timecode-type": "ABSOLUTE"}))
    # Then acks carry those timecodes and the fragments sit at those producer times
    assert [e["FragmentTimecode"] for e in events] == [(T0 + 100) * 1000, (T0 + 102) * 1000]
    page = invoke(
        "/getImages",
        {
            "StreamName": "cam",
            "ImageSelectorType": "PRODUCER_TIMESTAMP",
            "StartTimestamp": T0 + 103.5,
            "EndTimestamp": T0 + 103.5,
            "Format": "JPEG",
        },
    )
    assert read_frame_number(base64.b64decode(page["body"]["Images"][0]["ImageContent"])) == 87
