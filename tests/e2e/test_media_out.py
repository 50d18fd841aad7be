"""Media out through the deployed API (API Gateway -> the media function -> S3) with unmodified clients: GetClip,
GetMediaForFragmentList and GetMedia as boto3 and the AWS CLI call them, over HTTPS.

Each client asks GetDataEndpoint for its APIName first, as KVS clients do. Frame numbers painted into the synthetic
clips are read back from what arrives, so a lost, repeated or damaged frame fails the test; the media is binary
and crosses API Gateway base64-encoded, so a decoded frame is also proof the bytes arrived intact.

What LocalStack (4.9.2) does not do like AWS here:

- API Gateway decodes a Lambda proxy answer marked ``isBase64Encoded`` only when the request's Accept header names
  one of the binary media types, and it skips the stack's ``*/*`` entry. botocore (boto3, the AWS CLI) sends no
  Accept, so every media answer arrived as its base64 text (GetClip: an "MP4" starting ``AAAAIGZ0eXBpc29t``). AWS
  treats ``*/*`` as matching every request. The project's LocalStack plugin (tools/localstack-host-executor,
  ``apigateway_binary``) puts AWS's rule in place for proxy answers, so these tests see what AWS clients see.
- The functions run as host processes (the project's executor), not in Lambda's sandbox: the 4,706,379-byte cap
  refused below is Stillframe's own (``Settings.max_media_bytes``), identical on AWS; Lambda's 6 MB response limit
  itself is not what is exercised.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import (
    CLIP_FPS,
    CLIP_START,
    Deployment,
    at,
    aws_cli,
    data_client,
    put_media,
    sdk_client,
    unique_stream,
)
from tests.support.media_out import MkvFile, clip_frames, mkv_files, mkv_frames
from tests.support.synth import make_clip

pytestmark = pytest.mark.e2e

LAMBDA_CAP = 4_706_379  # docs/api-rules.md: the deployed answer's cap (Lambda's 6 MB response after base64)
NUMBER = "AWS_KINESISVIDEO_FRAGMENT_NUMBER"
TOKEN = "AWS_KINESISVIDEO_CONTINUATION_TOKEN"
# A stream too big for one deployed answer: lossless 960x720, a key frame every 3 frames (~0.8 MB a second).
BIG_SECONDS = 8
BIG_FRAMES = BIG_SECONDS * CLIP_FPS


def clip_request(stream: str, start_s: float, end_s: float) -> dict[str, Any]:
    selector = {"StartTimestamp": at(start_s), "EndTimestamp": at(end_s)}
    return {
        "StreamName": stream,
        "ClipFragmentSelector": {"FragmentSelectorType": "PRODUCER_TIMESTAMP", "TimestampRange": selector},
    }


@pytest.fixture(scope="module")
def big_stream(keys_stack: Deployment, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A stream holding more media than one deployed answer carries; deleted afterwards."""
    clip = tmp_path_factory.mktemp("big") / "big.mkv"
    clip.write_bytes(make_clip(seconds=BIG_SECONDS, fps=CLIP_FPS, width=960, height=720, gop=3, encoder_params="qp=0"))
    stream = unique_stream("big")
    put_media(keys_stack, stream, clip, "--signing-name", "kinesisvideo")
    yield stream
    control = sdk_client(keys_stack, "kinesisvideo")
    control.delete_stream(StreamARN=control.describe_stream(StreamName=stream)["StreamInfo"]["StreamARN"])


def test_get_clip_holds_exactly_the_range(keys_stack: Deployment, ingested_stream: str) -> None:
    # Given the archived-media client at the GET_CLIP endpoint
    archived = data_client(keys_stack, "kinesis-video-archived-media", ingested_stream, "GET_CLIP")
    # When it asks for 0.5 s .. 4.5 s of the clip
    answer = archived.get_clip(**clip_request(ingested_stream, 0.5, 4.5))
    # Then the MP4 presents exactly the frames of that range, once each, in order
    assert answer["ContentType"] == "video/mp4"
    assert [n for n, _ in clip_frames(answer["Payload"].read())] == list(range(12, 113))


def test_get_clip_too_big_for_lambda_is_refused_naming_the_limit(keys_stack: Deployment, big_stream: str) -> None:
    # Given a stream holding more than one Lambda response carries
    archived = data_client(keys_stack, "kinesis-video-archived-media", big_stream, "GET_CLIP")
    # When the whole of it is asked for as one clip
    with pytest.raises(archived.exceptions.InvalidArgumentException) as refused:
        archived.get_clip(**clip_request(big_stream, 0, BIG_SECONDS))
    # Then it is refused, naming the limit (never a truncated file)
    assert f"{LAMBDA_CAP:,} bytes" in refused.value.response["Error"]["Message"]


def test_get_media_for_fragment_list_arrives_with_its_tags(keys_stack: Deployment, ingested_stream: str) -> None:
    # Given the stream's fragments as ListFragments lists them
    archived = data_client(keys_stack, "kinesis-video-archived-media", ingested_stream, "GET_MEDIA_FOR_FRAGMENT_LIST")
    listed = sorted(
        archived.list_fragments(StreamName=ingested_stream)["Fragments"], key=lambda f: f["ProducerTimestamp"]
    )
    numbers = [f["FragmentNumber"] for f in listed]
    # When all of them are asked for, last first
    answer = archived.get_media_for_fragment_list(StreamName=ingested_stream, Fragments=numbers[::-1])
    files = mkv_files(answer["Payload"].read())
    # Then each fragment arrives in the order asked, tagged as KVS tags it, its frames intact
    assert answer["ContentType"] == "video/webm"
    assert [f.tags[NUMBER] for f in files] == numbers[::-1]
    for file, fragment in zip(files[::-1], listed, strict=True):
        producer = float(file.tags["AWS_KINESISVIDEO_PRODUCER_TIMESTAMP"])
        assert producer == pytest.approx(fragment["ProducerTimestamp"].timestamp(), abs=0.001)
        assert float(file.tags["AWS_KINESISVIDEO_SERVER_TIMESTAMP"]) > 0
    assert [n for f in files[::-1] for n, _ in mkv_frames(f.data)] == list(range(6 * CLIP_FPS))


def test_get_media_earliest_is_bounded_and_continues_with_the_token(keys_stack: Deployment, big_stream: str) -> None:
    # Given the kinesis-video-media client at the GET_MEDIA endpoint of a stream over one answer's cap
    media = data_client(keys_stack, "kinesis-video-media", big_stream, "GET_MEDIA")
    # When it reads from EARLIEST, then again from the last fragment's continuation token until caught up
    first = media.get_media(StreamName=big_stream, StartSelector={"StartSelectorType": "EARLIEST"})["Payload"].read()
    answers = [first]
    files: list[MkvFile] = mkv_files(first)
    while len(answers) < 10:
        selector = {"StartSelectorType": "CONTINUATION_TOKEN", "ContinuationToken": files[-1].tags[TOKEN]}
        payload = media.get_media(StreamName=big_stream, StartSelector=selector)["Payload"].read()
        if not payload:
            break
        answers.append(payload)
        files += mkv_files(payload)
    # Then the first answer is bounded by the cap, and the answers together hold every frame once, in order
    assert 0 < len(first) <= LAMBDA_CAP
    assert len(answers) >= 2, "the first answer already held the whole stream: the cap was not reached"
    assert [n for f in files for n, _ in mkv_frames(f.data)] == list(range(BIG_FRAMES))
    assert len({f.tags[NUMBER] for f in files}) == len(files)


def test_aws_cli_get_clip_writes_the_file(keys_stack: Deployment, ingested_stream: str, tmp_path: Path) -> None:
    # Given the unmodified AWS CLI (it asks GetDataEndpoint itself only when told; here the API is the endpoint)
    out = tmp_path / "out.mp4"
    selector = {
        "FragmentSelectorType": "PRODUCER_TIMESTAMP",
        "TimestampRange": {"StartTimestamp": CLIP_START + 1, "EndTimestamp": CLIP_START + 3},
    }
    # When it writes two seconds of the clip to a file
    answer = aws_cli(
        keys_stack,
        "kinesis-video-archived-media",
        "get-clip",
        "--stream-name", ingested_stream,
        "--clip-fragment-selector", json.dumps(selector),
        str(out),
    )  # fmt: skip
    # Then the file holds exactly those frames
    assert answer["ContentType"] == "video/mp4"
    assert [n for n, _ in clip_frames(out.read_bytes())] == list(range(25, 76))
