"""A decoder kept between the pages of a range continues mid-GOP: the same pictures, fewer frames decoded."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import pytest

from stillframe.media import chain
from stillframe.media.fragment import open_fragment
from stillframe.media.split import iter_fragments
from tests.support.decoding import decode_frames

PYRAMID = {"codec": "h264", "frames": 50, "gop": 50, "bframes": 3, "encoder_params": "b-pyramid=normal"}
OPEN_GOP = {"codec": "hevc", "frames": 48, "gop": 24, "bframes": 3, "encoder_params": "open-gop=1"}
KEY = "fragments/cam/0001"


@pytest.fixture(autouse=True)
def no_parked_decoders() -> Iterator[None]:
    chain.PARKED._parked.clear()
    yield
    chain.PARKED._parked.clear()


def _fresh(data: bytes, wanted: list[int]) -> tuple[dict[int, np.ndarray], int]:
    fragment = open_fragment(data)
    frames = decode_frames(fragment, wanted)
    return {index: frame.to_ndarray() for index, frame in frames.items()}, fragment.frames_decoded


def _page(data: bytes, wanted: list[int], follow: list[int]) -> tuple[dict[int, np.ndarray], int]:
    """One page's decode as the engine runs it: a fresh demux of the stored bytes, keyed by the blob."""
    fragment = open_fragment(data, key=KEY)
    frames = decode_frames(fragment, wanted, follow=follow)
    return {index: frame.to_ndarray() for index, frame in frames.items()}, fragment.frames_decoded


@pytest.mark.parametrize("clip", [PYRAMID, OPEN_GOP], ids=["x264 B-pyramid", "x265 open GOP"])
def test_the_next_page_continues_the_kept_decoder(small_clip: Callable[..., bytes], clip: dict[str, object]) -> None:
    # Given one stored fragment and a range paged at every fifth frame, three samples a page
    (stored,) = iter_fragments(small_clip(**clip), target_ms=60_000)
    pages = [[0, 5, 10], [15, 20, 25], [30, 35, 40]]

    # When the pages are decoded one after the other, each naming the next page's samples
    kept = [_page(stored.data, page, pages[n + 1] if n + 1 < len(pages) else []) for n, page in enumerate(pages)]

    # Then every picture is the fresh decoder's, pixel for pixel, and later pages decode fewer frames
    fresh = [_fresh(stored.data, page) for page in pages]
    for (pictures, _), (expected, _) in zip(kept, fresh, strict=True):
        assert pictures.keys() == expected.keys()
        assert all(np.array_equal(pictures[index], expected[index]) for index in expected)
    assert kept[1][1] < fresh[1][1] and kept[2][1] < fresh[2][1]
    assert sum(decoded for _, decoded in kept) < sum(decoded for _, decoded in fresh)
    assert len(chain.PARKED) == 0  # the last page names no next one: nothing is left parked


def test_the_whole_range_decodes_what_one_request_would(small_clip: Callable[..., bytes]) -> None:
    # Given a B-pyramid GOP paged at every fifth frame
    (stored,) = iter_fragments(small_clip(**PYRAMID), target_ms=60_000)
    pages = [[0, 5, 10], [15, 20, 25], [30, 35, 40]]

    # When the pages continue one decoder
    total = sum(_page(stored.data, page, pages[n + 1] if n + 1 < 3 else [])[1] for n, page in enumerate(pages))

    # Then the range decodes what a single decode of all nine frames does (the chain up to frame 40, once)
    assert total == _fresh(stored.data, [index for page in pages for index in page])[1]


def test_a_page_the_kept_decoder_cannot_serve_starts_afresh(small_clip: Callable[..., bytes]) -> None:
    # Given a decoder kept after frames 20..25 for a next page expected at 30
    (stored,) = iter_fragments(small_clip(**PYRAMID), target_ms=60_000)
    _page(stored.data, [20, 25], [30])
    assert len(chain.PARKED) == 1

    # When the next page asks for earlier frames instead (a client went back)
    pictures, decoded = _page(stored.data, [3, 30], [])

    # Then it gets the fresh decoder's pictures; the kept decoder's pending pictures are counted as it is dropped
    expected, fresh_decoded = _fresh(stored.data, [3, 30])
    assert all(np.array_equal(pictures[index], expected[index]) for index in expected)
    assert decoded >= fresh_decoded
    assert len(chain.PARKED) == 0


def test_without_a_key_nothing_is_kept(small_clip: Callable[..., bytes]) -> None:
    (stored,) = iter_fragments(small_clip(**PYRAMID), target_ms=60_000)
    fragment = open_fragment(stored.data)
    decode_frames(fragment, [10], follow=[15])
    assert len(chain.PARKED) == 0


def test_parked_decoders_are_bounded_least_recent_out() -> None:
    # Given room for two decoders
    parked = chain.ParkedDecoders(max_entries=2)
    decoders = [chain.Parked(decoder=None, position=0, fed=set(), kept={}, size=1) for _ in range(3)]  # type: ignore[arg-type]

    # When three are parked, the first is handed back to be retired; a taken one is gone from the cache
    assert parked.park(("a", 0), decoders[0]) == []
    assert parked.park(("b", 0), decoders[1]) == []
    assert parked.park(("c", 0), decoders[2]) == [decoders[0]]
    assert parked.take(("b", 0)) == (decoders[1], [])
    assert parked.take(("b", 0)) == (None, [])
    assert len(parked) == 1
