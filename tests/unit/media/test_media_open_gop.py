"""Open GOPs in the splitter and the fragment reader: leading pictures stay with the GOP they reference."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from stillframe.media.fragment import open_fragment
from stillframe.media.split import iter_fragments
from tests.support.decoding import decode_frames
from tests.support.gops import leading_counts, reference_chain_frames
from tests.support.synth import read_frame_number

GOP = 12  # 480 ms at 25 fps; a multiple of bframes + 1, so three B-frames lead each later key frame
OPEN = {"frames": 72, "gop": GOP, "bframes": 3, "encoder_params": "open-gop=1"}


@pytest.mark.parametrize("codec", ["hevc", "h264"])
def test_fragments_never_open_with_leading_pictures(small_clip: Callable[..., bytes], codec: str) -> None:
    # Given an open-GOP clip with leading pictures before every later key frame
    clip = small_clip(codec=codec, **OPEN)
    assert all(count >= 3 for count in leading_counts(clip)[1:])

    # When it is cut at about 960 ms (two GOPs)
    fragments = list(iter_fragments(clip, target_ms=960))

    # Then fragments keep their length and tile the clip, none starts with leading pictures, and all frames are there
    assert [(f.offset_ms, f.duration_ms, f.frame_count) for f in fragments] == [(t, 960, 24) for t in (0, 960, 1920)]
    assert all(leading_counts(f.data)[0] == 0 for f in fragments)


@pytest.mark.parametrize("codec", ["hevc", "h264"])
def test_a_leading_picture_is_decoded_from_the_gop_it_references(small_clip: Callable[..., bytes], codec: str) -> None:
    # Given one fragment of an open-GOP clip
    (stored,) = iter_fragments(small_clip(codec=codec, **OPEN), target_ms=60_000)
    fragment = open_fragment(stored.data)

    # When the frame just before the second key frame (a leading picture) and one inside a GOP are decoded
    before_key = decode_frames(fragment, [2 * GOP - 1])
    inside = open_fragment(stored.data)
    middle = decode_frames(inside, [GOP + 2])

    # Then both show the right frame; the leading picture costs the reference pictures of its GOP, the key frame
    # and itself (never more than the GOP through the leading pictures), and a frame inside a GOP less than its GOP
    assert read_frame_number(before_key[2 * GOP - 1].to_image()) == 2 * GOP - 1
    assert read_frame_number(middle[GOP + 2].to_image()) == GOP + 2
    assert 2 < fragment.frames_decoded <= GOP + 4
    assert inside.frames_decoded < GOP


def test_closed_gops_decode_within_their_own_gop(small_clip: Callable[..., bytes]) -> None:
    # Given closed GOPs with B-frames (no leading pictures)
    (stored,) = iter_fragments(small_clip(frames=40, gop=GOP, bframes=2), target_ms=60_000)
    fragment = open_fragment(stored.data)

    # When the last frame of the first GOP is decoded; Then its reference chain in that GOP is decoded, nothing after
    frame = decode_frames(fragment, [GOP - 1])[GOP - 1]
    assert read_frame_number(frame.to_image()) == GOP - 1
    assert fragment.frames_decoded == reference_chain_frames(stored.data, GOP - 1) < GOP
