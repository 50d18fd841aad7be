"""GetMedia against a real `stillframe serve` with unmodified boto3 (`kinesis-video-media`, its endpoint from
GetDataEndpoint GET_MEDIA): the streaming Payload read incrementally, fragment by fragment, as a KVS consumer does.

A NOW reader tails a producer session (``EmulatedProducer``) started after it; the time from each cluster's
PERSISTED ack to its fragment reaching the reader is measured and printed (no timed assert: CI machines vary).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.compat.conftest import START_MS
from tests.support.media_out import mkv_files, mkv_frames
from tests.support.producer import EmulatedProducer, ProducerStream
from tests.support.producer import session_clients as clients
from tests.support.serve import running_serve

NUMBER = "AWS_KINESISVIDEO_FRAGMENT_NUMBER"
TOKEN = "AWS_KINESISVIDEO_CONTINUATION_TOKEN"


def media_client(url: str, stream: str) -> Any:
    """boto3's kinesis-video-media client on the endpoint GetDataEndpoint gives for GET_MEDIA."""
    kinesisvideo, _ = clients(url)
    endpoint = kinesisvideo.get_data_endpoint(StreamName=stream, APIName="GET_MEDIA")["DataEndpoint"]
    config = Config(retries={"max_attempts": 1}, read_timeout=30)
    return boto3.client(
        "kinesis-video-media",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
        config=config,
    )


class FragmentReader:
    """Reads a GetMedia Payload one Matroska file at a time (EBML header, then a Segment of known size), noting
    when each arrived: exactly the bytes each needs, so nothing waits for more than the server sent."""

    def __init__(self, payload: Any) -> None:
        self.payload = payload

    def _exact(self, size: int) -> bytes:
        data = b""
        while len(data) < size:
            block = self.payload.read(size - len(data))
            if not block:
                raise EOFError("the GetMedia stream ended")
            data += block
        return data

    def _element(self) -> bytes:
        first = self._exact(1)
        id_width = next(i + 1 for i in range(4) if first[0] & (0x80 >> i))
        element_id = first + self._exact(id_width - 1)
        size_first = self._exact(1)
        width = next(i + 1 for i in range(8) if size_first[0] & (0x80 >> i))
        size_bytes = size_first + self._exact(width - 1)
        size = int.from_bytes(size_bytes, "big") & ((1 << (7 * width)) - 1)
        return element_id + size_bytes + self._exact(size)

    def next_file(self) -> tuple[float, Any]:
        """(arrival time, parsed file) of the next fragment."""
        data = self._element() + self._element()
        arrived = time.monotonic()
        (file,) = mkv_files(data)
        return arrived, file


def test_earliest_reads_every_fragment_in_order_with_its_tags(fresh_server: str, media: ProducerStream) -> None:
    # Given a producer session that stored six fragments
    kinesisvideo, _ = clients(fresh_server)
    kinesisvideo.create_stream(StreamName="cam", DataRetentionInHours=1)
    producer = EmulatedProducer(fresh_server, "cam")
    producer.run(media)
    # When boto3 reads the stream from its earliest fragment
    answer = media_client(fresh_server, "cam").get_media(
        StreamName="cam", StartSelector={"StartSelectorType": "EARLIEST"}
    )
    reader = FragmentReader(answer["Payload"])
    files = [reader.next_file()[1] for _ in range(6)]
    answer["Payload"].close()
    # Then it gets each fragment, in the order stored, with KVS's tags and a continuation token after it
    assert answer["ContentType"] == "video/webm"
    assert [f.tags[NUMBER] for f in files] == [producer.persisted[tc] for tc, _ in media.clusters]
    assert all(f.tags[TOKEN] for f in files)
    # And every frame, once, in order, at its producer time
    frames = [frame for f in files for frame in mkv_frames(f.data)]
    assert [n for n, _ in frames] == list(range(150))
    assert [pts for _, pts in frames] == [START_MS + 40 * n for n in range(150)]


def test_now_tails_a_producer_that_starts_later(fresh_server: str, media: ProducerStream) -> None:
    # Given a NOW reader already waiting on an empty stream
    kinesisvideo, _ = clients(fresh_server)
    kinesisvideo.create_stream(StreamName="cam", DataRetentionInHours=1)
    answer = media_client(fresh_server, "cam").get_media(StreamName="cam", StartSelector={"StartSelectorType": "NOW"})
    reader = FragmentReader(answer["Payload"])
    received: list[tuple[float, Any]] = []
    tail = threading.Thread(target=lambda: received.extend(reader.next_file() for _ in range(6)), daemon=True)
    tail.start()
    # When a producer streams six clusters, one every 200 ms
    producer = EmulatedProducer(fresh_server, "cam")
    producer.run(media, pace_s=0.2)
    tail.join(timeout=30)
    answer["Payload"].close()
    # Then each fragment reaches the reader, in order
    session = producer.sessions[-1]
    persisted_at = {
        str(ack["FragmentNumber"]): at
        for ack, at in zip(session.acks, session.ack_times, strict=True)
        if ack["EventType"] == "PERSISTED"
    }
    assert [f.tags[NUMBER] for _, f in received] == [producer.persisted[tc] for tc, _ in media.clusters]
    assert [n for _, f in received for n, _ in mkv_frames(f.data)] == list(range(150))
    latencies = [(at - persisted_at[f.tags[NUMBER]]) * 1000 for at, f in received]
    print(f"\nNOW tail latency after PERSISTED (ms): {', '.join(f'{ms:.1f}' for ms in latencies)}")


def test_continuation_token_resumes_right_after_its_fragment(fresh_server: str, media: ProducerStream) -> None:
    # Given a reader that read two fragments, then went away
    kinesisvideo, _ = clients(fresh_server)
    kinesisvideo.create_stream(StreamName="cam", DataRetentionInHours=1)
    producer = EmulatedProducer(fresh_server, "cam")
    producer.run(media)
    client = media_client(fresh_server, "cam")
    first = client.get_media(StreamName="cam", StartSelector={"StartSelectorType": "EARLIEST"})
    reader = FragmentReader(first["Payload"])
    _, second = [reader.next_file() for _ in range(2)][1]
    first["Payload"].close()
    # When it comes back with the second fragment's continuation token
    selector = {"StartSelectorType": "CONTINUATION_TOKEN", "ContinuationToken": second.tags[TOKEN]}
    again = client.get_media(StreamName="cam", StartSelector=selector)
    resumed = FragmentReader(again["Payload"]).next_file()[1]
    again["Payload"].close()
    # Then it gets the third fragment: nothing repeated, nothing skipped
    assert resumed.tags[NUMBER] == producer.persisted[media.clusters[2][0]]
    assert mkv_frames(resumed.data)[0][0] == 50


@pytest.mark.parametrize(
    ("stream", "selector", "code"),
    [
        ("nope", {"StartSelectorType": "EARLIEST"}, "ResourceNotFoundException"),
        ("cam", {"StartSelectorType": "CONTINUATION_TOKEN", "ContinuationToken": "AQ" + "x" * 80}, "InvalidArgument"),
        ("cam", {"StartSelectorType": "FRAGMENT_NUMBER"}, "InvalidArgumentException"),
        ("keeps-nothing", {"StartSelectorType": "NOW"}, "ResourceNotFoundException"),
    ],
)
def test_errors_are_the_modeled_ones(fresh_server: str, stream: str, selector: dict[str, str], code: str) -> None:
    kinesisvideo, _ = clients(fresh_server)
    kinesisvideo.create_stream(StreamName="cam", DataRetentionInHours=1)
    kinesisvideo.create_stream(StreamName="keeps-nothing", DataRetentionInHours=0)
    client = media_client(fresh_server, "cam")
    with pytest.raises(ClientError) as error:
        client.get_media(StreamName=stream, StartSelector=selector)
    assert error.value.response["Error"]["Code"].startswith(code)


def test_a_tail_ends_when_its_stream_is_deleted(fresh_server: str) -> None:
    # Given a NOW reader waiting on a stream
    kinesisvideo, _ = clients(fresh_server)
    kinesisvideo.create_stream(StreamName="cam", DataRetentionInHours=1)
    answer = media_client(fresh_server, "cam").get_media(StreamName="cam", StartSelector={"StartSelectorType": "NOW"})
    # When the stream is deleted
    arn = kinesisvideo.describe_stream(StreamName="cam")["StreamInfo"]["StreamARN"]
    kinesisvideo.delete_stream(StreamARN=arn)
    # Then the answer ends (within the poll interval), properly terminated
    started = time.monotonic()
    assert answer["Payload"].read() == b""
    assert time.monotonic() - started < 10


def test_a_tail_ends_when_its_reader_goes_away(tmp_path: Path) -> None:
    # Given a NOW reader on serve, logging its requests
    log = tmp_path / "serve.log"
    with running_serve("--data-dir", str(tmp_path / "data"), log=log) as (url, _):
        kinesisvideo, _ = clients(url)
        kinesisvideo.create_stream(StreamName="cam", DataRetentionInHours=1)
        answer = media_client(url, "cam").get_media(StreamName="cam", StartSelector={"StartSelectorType": "NOW"})
        # When the reader closes its connection
        answer["Payload"].close()
        # Then serve ends the answer (its request line is logged) within the poll interval
        deadline = time.monotonic() + 10
        while "/getMedia" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "/getMedia" in log.read_text()
