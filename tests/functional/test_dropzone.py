"""The S3 drop-zone handler with a real S3 event record shape, over the local store."""

from __future__ import annotations

import base64
import functools

import pytest

from tests.conftest import T0, FakeContext
from tests.support.synth import read_frame_number


def s3_event(key: str) -> dict:
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": "us-east-1",
                "eventTime": "2026-11-26T10:00:00.000Z",
                "eventName": "ObjectCreated:Put",
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "bucket": {"name": "stillframe-media", "arn": "arn:aws:s3:::stillframe-media"},
                    "object": {"key": key, "size": 1, "eTag": "0", "sequencer": "0"},
                },
            }
        ]
    }


@pytest.fixture
def dropzone(invoke):
    from stillframe.handlers.dropzone import lambda_handler

    return functools.partial(lambda_handler, svc=invoke.services), invoke.services


def test_incoming_object_becomes_fragments_and_is_removed(invoke, dropzone, clip_factory):
    handler, svc = dropzone
    invoke("/createStream", {"StreamName": "cam", "DataRetentionInHours": 1})
    key = f"incoming/cam/{T0}_lobby recording.mp4"
    svc.store.put(key, clip_factory(seconds=6, fps=25, gop=50, container="mp4"))
    # S3 URL-encodes keys in events (spaces become '+')
    result = handler(s3_event((svc.settings.prefix + key).replace(" ", "+")), FakeContext())
    assert result == {"fragments": 3, "refused": 0}
    assert list(svc.store.list("incoming/")) == []
    page = invoke(
        "/getImages",
        {
            "StreamName": "cam",
            "ImageSelectorType": "PRODUCER_TIMESTAMP",
            "StartTimestamp": T0 + 4.5,
            "EndTimestamp": T0 + 4.5,
            "Format": "JPEG",
        },
    )["body"]
    assert read_frame_number(base64.b64decode(page["Images"][0]["ImageContent"])) == 112


def test_bad_object_fails_and_stays_for_retry(invoke, dropzone):
    handler, svc = dropzone
    invoke("/createStream", {"StreamName": "cam", "DataRetentionInHours": 1})
    svc.store.put("incoming/cam/junk.mp4", b"not a video at all" * 10)
    with pytest.raises(Exception, match=r"parse|media"):
        handler(s3_event("incoming/cam/junk.mp4"), FakeContext())
    assert [o.key for o in svc.store.list("incoming/")] == ["incoming/cam/junk.mp4"]
    assert list(svc.store.list("media/")) == []


def test_an_object_with_a_refused_fragment_stays_and_the_rest_is_stored(invoke, dropzone, clip_factory):
    from tests.support.hostile import plain_clip

    handler, svc = dropzone
    invoke("/createStream", {"StreamName": "cam", "DataRetentionInHours": 1})
    # Given an object whose one GOP holds 1,300 frames (refused: ERROR 4001), and a good one
    svc.store.put(f"incoming/cam/{T0}_long-gop.mkv", plain_clip(width=64, height=64, frames=1300, fps=1000))
    svc.store.put(f"incoming/cam/{T0 + 60}_fine.mp4", clip_factory(seconds=2, fps=25, gop=50, container="mp4"))
    # When both are ingested
    refused = handler(s3_event(f"incoming/cam/{T0}_long-gop.mkv"), FakeContext())
    stored = handler(s3_event(f"incoming/cam/{T0 + 60}_fine.mp4"), FakeContext())
    # Then the good one is stored and removed; the refused one is kept, nothing of it lost
    assert refused == {"fragments": 0, "refused": 1} and stored == {"fragments": 1, "refused": 0}
    assert [o.key for o in svc.store.list("incoming/")] == [f"incoming/cam/{T0}_long-gop.mkv"]
