"""An image-generation destination cannot leave the delivery folder, and no foreign object breaks the catalog.

Found by a probe: ``s3://../objects/streams`` was accepted, the embedded delivery wrote JPEGs among the stream
records, and every ListStreams answered 500 from then on.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from stillframe.delivery.sinks import DirectorySink
from stillframe.domain.image_generation_requests import bucket_rule_broken

CONFIG = {
    "Status": "ENABLED",
    "ImageSelectorType": "PRODUCER_TIMESTAMP",
    "DestinationConfig": {"Uri": "s3://stills-bucket/door", "DestinationRegion": "us-east-1"},
    "SamplingInterval": 1000,
    "Format": "JPEG",
}


@pytest.mark.parametrize(
    "uri",
    [
        "s3://../objects/streams",
        "s3://./x",
        "s3://Stills/x",
        "s3://st/x",
        "s3://a" + "b" * 63,
        "s3://stills..bucket",
        "s3://192.168.1.20/x",
        "s3://-stills/x",
        "s3://xn--stills/x",
        "s3://stills-s3alias/x",
        "s3://st_ills/x",
    ],
)
def test_a_bucket_s3_would_refuse_is_refused_and_nothing_is_stored(invoke, uri: str) -> None:
    # Given a stream without a configuration
    invoke("/createStream", {"StreamName": "gen", "DataRetentionInHours": 1})
    version = invoke("/describeStream", {"StreamName": "gen"})["body"]["StreamInfo"]["Version"]
    # When a configuration names a bucket that breaks S3's naming rules
    config = {**CONFIG, "DestinationConfig": {"Uri": uri, "DestinationRegion": "us-east-1"}}
    answer = invoke(
        "/updateImageGenerationConfiguration", {"StreamName": "gen", "ImageGenerationConfiguration": config}
    )
    # Then a 400 names the field and the rule, and the stream is as it was
    assert answer["status"] == 400, answer
    assert answer["body"]["__type"] == "InvalidArgumentException"
    message = answer["body"]["message"]
    assert "ImageGenerationConfiguration.DestinationConfig.Uri" in message and "bucket name" in message, message
    assert invoke("/describeImageGenerationConfiguration", {"StreamName": "gen"})["body"] == {}
    assert invoke("/describeStream", {"StreamName": "gen"})["body"]["StreamInfo"]["Version"] == version


@pytest.mark.parametrize("name", ["stills-bucket", "my.stills.2026", "abc", "a" * 63, "x1-s3"])
def test_valid_bucket_names_pass(name: str) -> None:
    assert bucket_rule_broken(name) is None


def test_the_local_sink_keeps_any_bucket_inside_its_folder(tmp_path: Path) -> None:
    # Given a sink under delivered/ and buckets stored before names were checked
    root = tmp_path / "data" / "delivered"
    sink = DirectorySink(root)
    for bucket in ("..", ".", "a/../../objects"):
        # When an image is delivered / Then it lands below the sink's folder
        sink.put(bucket, "x/img.jpg", b"jpeg", region="us-east-1", content_type="image/jpeg", metadata={})
    written = [path for path in (tmp_path / "data").rglob("*") if path.is_file()]
    assert written and all(root in path.parents for path in written), written
    assert len(written) == 3


@pytest.mark.parametrize("invoke", ["local"], indirect=True)
def test_foreign_objects_among_stream_records_are_skipped_not_a_500(invoke) -> None:
    # Given two streams, and objects that are no stream records where records live
    for name in ("cam-a", "cam-b"):
        invoke("/createStream", {"StreamName": name, "DataRetentionInHours": 1})
    store = invoke.services.store
    store.put("streams/junk.json", b"\xff\xd8\xff\xe0 a JPEG")
    store.put("streams/list.json", b"[1, 2]")
    store.put("streams/other.json", b'{"Unknown": 1}')
    store.put("streams/some-bucket/x/img.jpg", b"\xff\xd8\xff\xe0")
    # When streams are listed, described and created
    listed = invoke("/listStreams", {})
    described = invoke("/describeStream", {"StreamName": "junk"})
    again = invoke("/listStreams", {"MaxResults": 1})
    # Then the real streams are listed, the foreign ones are absent (never a 500)
    assert listed["status"] == 200, listed
    assert [info["StreamName"] for info in listed["body"]["StreamInfoList"]] == ["cam-a", "cam-b"]
    assert described["status"] == 404 and described["body"]["__type"] == "ResourceNotFoundException"
    assert again["status"] == 200 and len(again["body"]["StreamInfoList"]) == 1
