"""The sample timeline: t_k = start + k * interval while t_k <= end, paged by offset."""

from __future__ import annotations

import pytest

from stillframe.domain.requests import parse_get_images
from stillframe.domain.timeline import has_more, page_samples, sample_count

S = 1_700_000_000_000  # a start time in epoch ms


@pytest.mark.parametrize(
    ("end_offset_ms", "interval_ms", "expected"),
    [
        (0, 200, 1),  # End == Start: the start sample alone
        (150, 200, 1),  # range shorter than the interval: still the start sample
        (199, 200, 1),
        (200, 200, 2),  # exact multiple: the end is a sample
        (201, 200, 2),
        (10_000, 1000, 11),
        (9_999, 1000, 10),
        (300_000, 200, 1501),  # the largest request: 300 s at 200 ms
        (300_000, 3000, 101),
        (300_000, 2**31 - 1, 1),
    ],
)
def test_sample_count(end_offset_ms: int, interval_ms: int, expected: int) -> None:
    # Given a range and an interval; Then the number of samples follows t_k <= end
    assert sample_count(S, S + end_offset_ms, interval_ms) == expected


def test_pages_cover_every_sample_once_in_order() -> None:
    # Given 300 s at 200 ms read in pages of 25
    end = S + 300_000
    seen: list[int] = []
    offset = 0
    while True:
        page = page_samples(S, end, 200, offset, 25)
        seen.extend(page)
        offset += len(page)
        if not has_more(S, end, 200, offset):
            break
    # Then the pages hold every sample exactly once, in time order, ending on the end time
    assert seen == [S + 200 * k for k in range(1501)]
    assert seen[-1] == end
    assert len(page) == 1501 - 60 * 25


def test_first_page_starts_at_the_start_and_is_limited() -> None:
    # Given 11 samples; When the first page of 4 is taken; Then it is t_0..t_3
    assert page_samples(S, S + 10_000, 1000, 0, 4) == [S, S + 1000, S + 2000, S + 3000]
    assert has_more(S, S + 10_000, 1000, 4)


def test_last_page_is_short_and_nothing_follows() -> None:
    # Given 11 samples; When the page at offset 8 asks for 25; Then it holds the last 3 and no more follow
    assert page_samples(S, S + 10_000, 1000, 8, 25) == [S + 8000, S + 9000, S + 10_000]
    assert not has_more(S, S + 10_000, 1000, 11)


@pytest.mark.parametrize("offset", [11, 12, 10**9])
def test_offset_past_the_end_gives_an_empty_page(offset: int) -> None:
    # Given an offset beyond the last sample (a token from some other timeline); Then the page is empty
    assert page_samples(S, S + 10_000, 1000, offset, 25) == []
    assert not has_more(S, S + 10_000, 1000, offset)


def test_partial_page_leaves_the_rest_for_the_next_token() -> None:
    # Given a page that stopped early after 2 of 4 samples (byte or time budget)
    # Then samples remain from offset 2, and the next page starts at t_2
    assert has_more(S, S + 3000, 1000, 2)
    assert page_samples(S, S + 3000, 1000, 2, 25) == [S + 2000, S + 3000]


def test_fractional_second_timestamps_give_millisecond_samples() -> None:
    # Given a request with fractional epoch seconds (as the JS SDK sends)
    request = parse_get_images(
        {
            "StreamName": "cam",
            "ImageSelectorType": "SERVER_TIMESTAMP",
            "StartTimestamp": 1_700_000_000.123,
            "EndTimestamp": 1_700_000_000.723,
            "SamplingInterval": 200,
            "Format": "JPEG",
        }
    )
    # Then the samples fall on exact milliseconds from the start, the end included
    samples = page_samples(request.start_ms, request.end_ms, request.interval_ms, 0, request.page_size)
    assert samples == [S + 123, S + 323, S + 523, S + 723]


@pytest.mark.parametrize(("offset", "limit"), [(-1, 25), (0, 0)])
def test_negative_offset_or_empty_limit_is_a_programming_error(offset: int, limit: int) -> None:
    # Given nonsense the parser and token codec never produce; Then it fails loudly
    with pytest.raises(ValueError):
        page_samples(S, S + 1000, 200, offset, limit)


@pytest.mark.parametrize(("end_ms", "interval_ms"), [(S - 1, 200), (S + 1000, 0)])
def test_invalid_range_is_a_programming_error(end_ms: int, interval_ms: int) -> None:
    # Given an end before the start or a zero interval; Then counting fails loudly
    with pytest.raises(ValueError):
        sample_count(S, end_ms, interval_ms)
