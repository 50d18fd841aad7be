"""GetMediaForFragmentList through the handler: the listed fragments in the order asked, each a Matroska file with
KVS's fragment tags and its frames at producer time; unknown numbers refused."""

from __future__ import annotations

import json

import pytest

from tests.conftest import T0
from tests.support.media_out import media_call, mkv_files, mkv_frames, three_fragments

LOCAL_ONLY = pytest.mark.parametrize("invoke", ["local"], indirect=True)


def get_media(invoke, stream: str, numbers: list[str]):
    body = {"StreamName": stream, "Fragments": numbers}
    return media_call(invoke, "/getMediaForFragmentList", body)


@pytest.fixture
def fragments(invoke, clip_factory):
    """Three 2 s fragments of 25 fps video, frames 0-149."""
    return three_fragments(invoke, clip_factory)


@LOCAL_ONLY
def test_fragments_come_in_the_order_asked_with_their_tags(invoke, fragments):
    # When the third and the first fragment are asked for, in that order
    third, first = fragments[2], fragments[0]
    status, headers, media = get_media(invoke, "cam", [third["FragmentNumber"], first["FragmentNumber"]])
    # Then two Matroska files come back, one cluster each, tagged as KVS tags them
    assert status == 200 and headers["content-type"] == "video/webm"
    files = mkv_files(media)
    assert [f.clusters for f in files] == [1, 1]
    for file, listed in zip(files, [third, first], strict=True):
        assert file.tags["AWS_KINESISVIDEO_FRAGMENT_NUMBER"] == listed["FragmentNumber"]
        assert float(file.tags["AWS_KINESISVIDEO_PRODUCER_TIMESTAMP"]) == pytest.approx(listed["ProducerTimestamp"])
        assert float(file.tags["AWS_KINESISVIDEO_SERVER_TIMESTAMP"]) == pytest.approx(listed["ServerTimestamp"])
    # And each holds its frames, once, in order, timed at producer time (ms)
    third_frames, first_frames = mkv_frames(files[0].data), mkv_frames(files[1].data)
    assert [n for n, _ in third_frames] == list(range(100, 150))
    assert [n for n, _ in first_frames] == list(range(0, 50))
    assert [pts for _, pts in first_frames] == [T0 * 1000 + 40 * n for n in range(50)]


@LOCAL_ONLY
def test_unknown_fragment_numbers_are_not_found(invoke, fragments):
    status, _, body = get_media(invoke, "cam", [fragments[0]["FragmentNumber"], "123456789"])
    answer = json.loads(body)
    assert status == 404 and answer["__type"] == "ResourceNotFoundException" and "123456789" in answer["message"]


@LOCAL_ONLY
@pytest.mark.parametrize("numbers", [[], ["12a"], ["1"] * 1001, ["1" * 129]])
def test_malformed_lists_are_refused(invoke, fragments, numbers):
    status, _, body = get_media(invoke, "cam", numbers)
    assert status == 400 and json.loads(body)["__type"] == "InvalidArgumentException"
