"""H.264 and HEVC decode only the reference chain of a sample plus the sample: the same pictures as a full decode."""

from __future__ import annotations

import io
from collections.abc import Callable

import av
import numpy as np
import pytest

from stillframe.media.fragment import open_fragment
from stillframe.media.split import iter_fragments
from tests.support.decoding import decode_frames
from tests.support.gops import reference_chain_frames
from tests.support.synth import read_frame_number

PYRAMID = {"codec": "h264", "frames": 50, "gop": 50, "bframes": 3, "encoder_params": "b-pyramid=normal"}
CLIPS = {  # name: (make_clip arguments, fragment length in ms)
    "x264 B-pyramid": (PYRAMID, 60_000),
    "x265 open GOP": ({"codec": "hevc", "frames": 72, "gop": 12, "bframes": 3, "encoder_params": "open-gop=1"}, 960),
    "x264 P only": ({"codec": "h264", "frames": 50, "gop": 25, "bframes": 0}, 60_000),
    "VP9": ({"container": "webm", "frames": 50, "gop": 25}, 60_000),
}


def _full_decode(data: bytes) -> dict[int, np.ndarray]:
    """Every frame of the source clip by its frame number, decoded by plain PyAV from the first packet on."""
    with av.open(io.BytesIO(data)) as container:
        return {read_frame_number(frame.to_image()): frame.to_ndarray() for frame in container.decode(video=0)}


@pytest.mark.parametrize("name", list(CLIPS))
def test_every_sampled_frame_is_the_full_decodes_picture(small_clip: Callable[..., bytes], name: str) -> None:
    # Given a clip cut into stored fragments, and every picture of a full decode of the clip
    arguments, fragment_ms = CLIPS[name]
    clip = small_clip(**arguments)
    full = _full_decode(clip)
    number = 0
    for stored in iter_fragments(clip, target_ms=fragment_ms):
        # When each frame is decoded alone (a fresh fragment each), and all of them at once
        alone = {}
        for index in range(stored.frame_count):
            alone[index] = decode_frames(open_fragment(stored.data), [index])[index]
        together = decode_frames(open_fragment(stored.data), range(stored.frame_count))

        # Then each shows its own frame number, pixel for pixel the full decode's picture
        for index in range(stored.frame_count):
            for frame in (alone[index], together[index]):
                assert read_frame_number(frame.to_image()) == number + index
                assert np.array_equal(frame.to_ndarray(), full[number + index])
        number += stored.frame_count
    assert number == len(full)


@pytest.mark.parametrize("rank", [10, 25, 40, 49])
def test_b_frames_nothing_refers_to_are_not_decoded(small_clip: Callable[..., bytes], rank: int) -> None:
    # Given one 50-frame GOP with three B-frames between P-frames and a B-pyramid
    (stored,) = iter_fragments(small_clip(**PYRAMID), target_ms=60_000)
    fragment = open_fragment(stored.data)

    # When one frame is decoded
    decode_frames(fragment, [rank])

    # Then the frames decoded are the reference pictures before it in decode order plus itself, as the bitstream
    # says, fewer than the key frame through the sample (except at the GOP's end, where all before are needed)
    assert fragment.frames_decoded == reference_chain_frames(stored.data, rank)
    assert fragment.frames_decoded < rank + 1 or rank == 49


def test_a_fixed_b_pattern_decodes_exactly_its_reference_chain(small_clip: Callable[..., bytes]) -> None:
    # Given I0 P4 B2 B1 B3 P8 B6 B5 B7 ... (three B-frames always, the middle one a reference: b-pyramid)
    clip = small_clip(**{**PYRAMID, "encoder_params": "b-pyramid=normal:b-adapt=0"})
    (stored,) = iter_fragments(clip, target_ms=60_000)
    fragment = open_fragment(stored.data)

    # When frame 25 (a non-reference B between P24 and P28) is decoded
    frame = decode_frames(fragment, [25])[25]

    # Then I0, P4..P28 (7), the reference B-frames B2..B26 (7) and B25 itself are decoded: 16, not 26
    assert read_frame_number(frame.to_image()) == 25
    assert fragment.frames_decoded == 16


@pytest.mark.parametrize("name", ["x264 P only", "VP9"])
def test_without_b_frames_the_key_frame_to_sample_is_decoded(small_clip: Callable[..., bytes], name: str) -> None:
    # Given P-frames only (every picture is a reference), or VP9 (decoded in full from the key frame)
    arguments, _ = CLIPS[name]
    (stored,) = iter_fragments(small_clip(**arguments), target_ms=60_000)

    # When frames 10 and 40 (GOPs of 25) are decoded; Then each costs its GOP's key frame through it
    fragment = open_fragment(stored.data)
    decode_frames(fragment, [10])
    assert fragment.frames_decoded == 11
    decode_frames(fragment, [40])
    assert fragment.frames_decoded == 11 + 16
