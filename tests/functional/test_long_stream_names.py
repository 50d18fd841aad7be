"""Stream names of 251-256 characters (valid per the KVS model) on every store, the local directory included."""

from __future__ import annotations

from tests.conftest import T0
from tests.support.kvs import frame_numbers, get_images, put_media

LONGEST = "cam-" + "x" * 250 + "-z"  # 256 characters: the model's maximum
NEIGHBOUR = "cam-" + "x" * 250 + "-"  # shares the long name's first 255 characters


def test_a_256_character_stream_is_created_ingested_into_listed_and_read(invoke, clip_factory):
    # Given a stream with the longest valid name, next to one sharing all but its last character
    for name in (LONGEST, NEIGHBOUR):
        assert invoke("/createStream", {"StreamName": name, "DataRetentionInHours": 1})["status"] == 200
    # When a clip is ingested into it
    events = put_media(invoke, LONGEST, clip_factory(seconds=4, fps=25, gop=50), producer_start=T0)
    # Then its fragments are stored, listed and readable, and ListStreams shows both names in order
    assert [e["EventType"] for e in events] == ["PERSISTED", "PERSISTED"]
    fragments = invoke("/listFragments", {"StreamName": LONGEST})["body"]["Fragments"]
    assert sorted(f["ProducerTimestamp"] for f in fragments) == [T0, T0 + 2]
    page = get_images(invoke, LONGEST, T0 + 0.2, T0 + 3.2)
    assert frame_numbers(page) == [5, 30, 55, 80]
    names = [s["StreamName"] for s in invoke("/listStreams", {})["body"]["StreamInfoList"]]
    assert names == sorted([LONGEST, NEIGHBOUR])
    described = invoke("/describeStream", {"StreamName": LONGEST})["body"]["StreamInfo"]
    assert described["StreamName"] == LONGEST
    prefixed = invoke(
        "/listStreams",
        {"StreamNameCondition": {"ComparisonOperator": "BEGINS_WITH", "ComparisonValue": LONGEST}},
    )["body"]["StreamInfoList"]
    assert [s["StreamName"] for s in prefixed] == [LONGEST]


def test_a_deleted_256_character_stream_leaves_nothing(invoke, clip_factory):
    # Given a 256-character stream holding media
    invoke("/createStream", {"StreamName": LONGEST, "DataRetentionInHours": 1})
    put_media(invoke, LONGEST, clip_factory(seconds=2, fps=25, gop=50), producer_start=T0)
    arn = invoke("/describeStream", {"StreamName": LONGEST})["body"]["StreamInfo"]["StreamARN"]
    # When it is deleted
    assert invoke("/deleteStream", {"StreamARN": arn})["status"] == 200
    # Then the name is free again and no object of it is left
    assert list(invoke.services.store.list("")) == []
    assert invoke("/createStream", {"StreamName": LONGEST, "DataRetentionInHours": 1})["status"] == 200
