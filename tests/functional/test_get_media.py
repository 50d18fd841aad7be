"""GetMedia through the handler (the buffered transport, as on Lambda): every StartSelector type, KVS's tags on each
fragment (number, timestamps, then the continuation token after it), frames read back by number; the errors."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest

from tests.conftest import T0
from tests.support.kvs import put_media
from tests.support.media_out import media_call, mkv_files, mkv_frames, three_fragments

LOCAL_ONLY = pytest.mark.parametrize("invoke", ["local"], indirect=True)
TOKEN = "AWS_KINESISVIDEO_CONTINUATION_TOKEN"
NUMBER = "AWS_KINESISVIDEO_FRAGMENT_NUMBER"


def get_media(invoke, selector: dict[str, Any], stream: str = "cam"):
    return media_call(invoke, "/getMedia", {"StreamName": stream, "StartSelector": selector})


def numbers_of(media: bytes) -> list[str]:
    return [file.tags[NUMBER] for file in mkv_files(media)]


@pytest.fixture
def fragments(invoke, clip_factory):
    """Three 2 s fragments of 25 fps video, frames 0-149."""
    return three_fragments(invoke, clip_factory)


@LOCAL_ONLY
def test_earliest_sends_every_fragment_with_its_tags_and_a_token_after_it(invoke, fragments):
    # When the stream is read from its earliest fragment
    status, headers, media = get_media(invoke, {"StartSelectorType": "EARLIEST"})
    # Then every fragment comes, in order, as its own Matroska file with KVS's tags
    assert status == 200 and headers["content-type"] == "video/webm"
    files = mkv_files(media)
    assert [f.tags[NUMBER] for f in files] == [f["FragmentNumber"] for f in fragments]
    for file, listed in zip(files, fragments, strict=True):
        assert float(file.tags["AWS_KINESISVIDEO_PRODUCER_TIMESTAMP"]) == pytest.approx(listed["ProducerTimestamp"])
        assert float(file.tags["AWS_KINESISVIDEO_SERVER_TIMESTAMP"]) == pytest.approx(listed["ServerTimestamp"])
        assert file.tags[TOKEN] and int(file.tags["AWS_KINESISVIDEO_MILLIS_BEHIND_NOW"]) >= 0
        # And the continuation token comes after the fragment's cluster, where KVS puts it
        assert file.data.rindex(TOKEN.encode()) > file.data.index(b"\x1f\x43\xb6\x75")
    # And the frames are all there, once, in order
    frames = [n for file in files for n, _ in mkv_frames(file.data)]
    assert frames == list(range(150))
    assert len({f.tags[TOKEN] for f in files}) == 3


@LOCAL_ONLY
def test_continuation_token_resumes_right_after_its_fragment(invoke, fragments):
    first = mkv_files(get_media(invoke, {"StartSelectorType": "EARLIEST"})[2])[0]
    selector = {"StartSelectorType": "CONTINUATION_TOKEN", "ContinuationToken": first.tags[TOKEN]}
    status, _, media = get_media(invoke, selector)
    assert status == 200
    assert numbers_of(media) == [f["FragmentNumber"] for f in fragments[1:]]
    assert mkv_frames(mkv_files(media)[0].data)[0][0] == 50


@LOCAL_ONLY
def test_fragment_number_starts_after_the_named_fragment(invoke, fragments):
    selector = {"StartSelectorType": "FRAGMENT_NUMBER", "AfterFragmentNumber": fragments[0]["FragmentNumber"]}
    assert numbers_of(get_media(invoke, selector)[2]) == [f["FragmentNumber"] for f in fragments[1:]]


@LOCAL_ONLY
@pytest.mark.parametrize("timeline", ["PRODUCER_TIMESTAMP", "SERVER_TIMESTAMP"])
def test_timestamps_start_with_the_fragment_holding_them(invoke, fragments, timeline):
    # When the start is a time inside the second fragment
    key = "ProducerTimestamp" if timeline == "PRODUCER_TIMESTAMP" else "ServerTimestamp"
    inside_second = fragments[1][key] + 0.5
    _, _, media = get_media(invoke, {"StartSelectorType": timeline, "StartTimestamp": inside_second})
    # Then the answer starts with that fragment
    assert numbers_of(media) == [f["FragmentNumber"] for f in fragments[1:]]


@LOCAL_ONLY
def test_now_sends_only_what_is_stored_after_the_request(invoke, fragments, clip_factory):
    # Given a producer that sends more media while a NOW reader waits
    later = threading.Timer(1.0, lambda: put_media(invoke, "cam", clip_factory(seconds=2, fps=25, gop=50), T0 + 60))
    later.start()
    started = time.monotonic()
    _, _, media = get_media(invoke, {"StartSelectorType": "NOW"})
    later.join()
    # Then only the new fragment comes, soon after it was stored
    files = mkv_files(media)
    assert len(files) == 1 and files[0].tags[NUMBER] not in {f["FragmentNumber"] for f in fragments}
    assert [n for n, _ in mkv_frames(files[0].data)] == list(range(50))
    assert time.monotonic() - started < 2.5


@LOCAL_ONLY
def test_buffered_answers_stop_at_the_byte_cap_and_continue_with_the_token(invoke, fragments):
    # Given an endpoint that answers at most about two fragments' worth of bytes
    one = len(get_media(invoke, {"StartSelectorType": "EARLIEST"})[2]) // 3
    object.__setattr__(invoke.services.settings, "max_media_bytes", 2 * one + one // 2)
    # When the stream is read from the start, then continued from the last token received
    first = mkv_files(get_media(invoke, {"StartSelectorType": "EARLIEST"})[2])
    token = first[-1].tags[TOKEN]
    rest = mkv_files(get_media(invoke, {"StartSelectorType": "CONTINUATION_TOKEN", "ContinuationToken": token})[2])
    # Then the two answers hold every fragment once, whole
    assert [f.tags[NUMBER] for f in first + rest] == [f["FragmentNumber"] for f in fragments]
    assert len(first) == 2


@LOCAL_ONLY
@pytest.mark.parametrize(
    "selector",
    [
        {"StartSelectorType": "FRAGMENT_NUMBER"},
        {"StartSelectorType": "SERVER_TIMESTAMP"},
        {"StartSelectorType": "CONTINUATION_TOKEN"},
        {"StartSelectorType": "LATEST"},
        {"StartSelectorType": "CONTINUATION_TOKEN", "ContinuationToken": "not+allowed"},
        {"StartSelectorType": "CONTINUATION_TOKEN", "ContinuationToken": "AQ" + "A" * 60},
    ],
)
def test_malformed_selectors_and_forged_tokens_are_invalid(invoke, fragments, selector):
    status, _, body = get_media(invoke, selector)
    assert status == 400 and json.loads(body)["__type"] == "InvalidArgumentException"


@LOCAL_ONLY
def test_a_token_of_another_stream_is_refused(invoke, fragments):
    token = mkv_files(get_media(invoke, {"StartSelectorType": "EARLIEST"})[2])[0].tags[TOKEN]
    invoke("/createStream", {"StreamName": "other", "DataRetentionInHours": 1})
    selector = {"StartSelectorType": "CONTINUATION_TOKEN", "ContinuationToken": token}
    status, _, body = get_media(invoke, selector, stream="other")
    assert status == 400 and json.loads(body)["__type"] == "InvalidArgumentException"


@LOCAL_ONLY
def test_unknown_streams_fragments_and_streams_without_retention_are_not_found(invoke, fragments):
    invoke("/createStream", {"StreamName": "keeps-nothing", "DataRetentionInHours": 0})
    for stream, selector in [
        ("nope", {"StartSelectorType": "EARLIEST"}),
        ("cam", {"StartSelectorType": "FRAGMENT_NUMBER", "AfterFragmentNumber": "123456789"}),
        ("keeps-nothing", {"StartSelectorType": "NOW"}),
    ]:
        status, _, body = get_media(invoke, selector, stream=stream)
        assert status == 404 and json.loads(body)["__type"] == "ResourceNotFoundException", (stream, body)
