"""Demuxing a fragment once and decoding only the frames asked for."""

from __future__ import annotations

import io
import random
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import av
import numpy as np
import pytest

from stillframe.errors import MediaError
from stillframe.media.fragment import DemuxedFragment, open_fragment
from stillframe.media.split import iter_fragments
from tests.support.decoding import decode_frames
from tests.support.synth import read_frame_number

GOP = 25
FRAMES = 100  # four GOPs in one fragment


@pytest.fixture(scope="module")
def executor() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(max_workers=2) as pool:
        yield pool


def _one_fragment(source: bytes) -> bytes:
    """The whole upload as one fragment (through the splitter, as stored fragments are made)."""
    (fragment,) = iter_fragments(source, target_ms=60_000)
    return fragment.data


def _numbers(decoded: dict[int, av.VideoFrame]) -> dict[int, int]:
    return {index: read_frame_number(frame.to_image()) for index, frame in decoded.items()}


def test_frames_are_listed_in_presentation_order_from_zero(small_clip: Callable[..., bytes]) -> None:
    # Given a fragment of 100 frames at 25 fps with B-frames
    fragment = open_fragment(_one_fragment(small_clip(frames=FRAMES, gop=GOP, bframes=2)))

    # Then its frames are 40 ms apart from offset 0, and it lasts 4 s, at the source size
    assert [f.offset_ms for f in fragment.frames] == [40 * i for i in range(FRAMES)]
    assert all(f.duration_ms == 40 for f in fragment.frames)
    assert fragment.duration_ms == 4000
    assert (fragment.width, fragment.height) == (160, 120)


def test_frame_index_at_finds_the_frame_on_screen(small_clip: Callable[..., bytes]) -> None:
    # Given a 4 s fragment
    fragment = open_fragment(_one_fragment(small_clip(frames=FRAMES, gop=GOP)))

    # Then each time maps to the last frame starting at or before it, and times outside map to nothing
    assert fragment.frame_index_at(0) == 0
    assert fragment.frame_index_at(39) == 0
    assert fragment.frame_index_at(40) == 1
    assert fragment.frame_index_at(3999) == 99
    assert fragment.frame_index_at(4000) is None
    assert fragment.frame_index_at(-1) is None


@pytest.mark.parametrize(
    ("wanted", "expected_decoded"),
    [
        ({0}, 1),  # the key frame alone
        ({5}, 6),  # k frames into a GOP costs k + 1
        ({30}, 6),  # earlier GOPs are skipped entirely
        ({24, 3}, 25),  # two frames of one GOP share one pass
        ({0, 24, 60}, 25 + 11),  # 0 and 24 share GOP 0; GOP 1 is skipped
        ({99}, 25),
        (set(), 0),
    ],
)
def test_decoding_costs_exactly_the_frames_a_wanted_frame_depends_on(
    wanted: set[int], expected_decoded: int, small_clip: Callable[..., bytes]
) -> None:
    # Given a fragment without B-frames, one key frame every 25 frames
    fragment = open_fragment(_one_fragment(small_clip(frames=FRAMES, gop=GOP)))

    # When some frames are decoded
    decoded = decode_frames(fragment, wanted)

    # Then each wanted frame is the right picture, and only its GOP's frames up to it were decoded
    assert _numbers(decoded) == {index: index for index in wanted}
    assert fragment.frames_decoded == expected_decoded


SOURCES = {
    "h264-bframes": {"bframes": 2},
    "mp4-editlist-bframes": {"container": "mp4", "bframes": 2},
    "mpegts-bframes": {"container": "mpegts", "bframes": 2},
    "hevc-bframes": {"codec": "libx265", "bframes": 3},
    "vp9": {"container": "webm"},
}


@pytest.mark.parametrize("name", SOURCES)
def test_wanted_frames_are_the_source_frames_with_reordering(name: str, small_clip: Callable[..., bytes]) -> None:
    # Given a fragment made by the splitter from a source with frame reordering (or another codec)
    fragment = open_fragment(_one_fragment(small_clip(frames=FRAMES, gop=GOP, **SOURCES[name])))
    wanted = {0, 1, 2, 7, 24, 25, 26, 49, 99}

    # When frames across several GOPs are decoded
    decoded = decode_frames(fragment, wanted)

    # Then each index is the source frame with that number, and the third GOP was never touched
    assert _numbers(decoded) == {index: index for index in wanted}
    assert fragment.frames_decoded <= 3 * GOP


def test_a_gop_stops_decoding_once_its_wanted_frames_are_out(small_clip: Callable[..., bytes]) -> None:
    # Given a fragment with B-frames
    fragment = open_fragment(_one_fragment(small_clip(frames=FRAMES, gop=GOP, bframes=2)))

    # When one early frame of the last GOP is decoded
    decoded = decode_frames(fragment, {76})

    # Then the right frame comes out without decoding the rest of the GOP
    assert _numbers(decoded) == {76: 76}
    assert fragment.frames_decoded < GOP


def test_parallel_decoding_gives_the_same_pictures(
    small_clip: Callable[..., bytes], executor: ThreadPoolExecutor
) -> None:
    # Given one fragment opened twice, and frames in every GOP
    data = _one_fragment(small_clip(frames=FRAMES, gop=GOP, bframes=2))
    sequential, parallel = open_fragment(data), open_fragment(data)
    wanted = {3, 30, 31, 60, 98}

    # When one decodes sequentially and the other on a thread pool
    one = decode_frames(sequential, wanted)
    other = decode_frames(parallel, wanted, executor=executor)

    # Then the pictures and the work done are identical
    assert one.keys() == other.keys() == wanted
    for index in wanted:
        assert np.array_equal(one[index].to_ndarray(), other[index].to_ndarray())
    assert sequential.frames_decoded == parallel.frames_decoded


def test_repeated_calls_decode_again_and_count_the_work(small_clip: Callable[..., bytes]) -> None:
    # Given a fragment decoded once
    fragment: DemuxedFragment = open_fragment(_one_fragment(small_clip(frames=FRAMES, gop=GOP)))
    decode_frames(fragment, {2})

    # When the same frame is asked for again, listed twice
    decoded = decode_frames(fragment, [2, 2])

    # Then it is decoded once more (no hidden re-demux, no duplicate work within the call)
    assert _numbers(decoded) == {2: 2}
    assert fragment.frames_decoded == 6


def test_an_index_outside_the_fragment_is_rejected(small_clip: Callable[..., bytes]) -> None:
    fragment = open_fragment(_one_fragment(small_clip(frames=FRAMES, gop=GOP)))
    with pytest.raises(IndexError):
        decode_frames(fragment, {FRAMES})


def test_a_destroyed_key_frame_is_a_media_error_for_its_gop_only(small_clip: Callable[..., bytes]) -> None:
    # Given a fragment whose first key frame was overwritten with random bytes
    data = bytearray(_one_fragment(small_clip(frames=FRAMES, gop=GOP)))
    with av.open(io.BytesIO(bytes(data))) as container:
        key_frame = next(bytes(p) for p in container.demux(video=0) if p.size)
    start = data.find(key_frame)
    data[start : start + len(key_frame)] = random.Random(7).randbytes(len(key_frame))
    fragment = open_fragment(bytes(data))

    # When a frame of the damaged GOP is wanted; Then decoding fails with a MediaError
    with pytest.raises(MediaError):
        decode_frames(fragment, {3})
    # And frames of later GOPs still decode correctly
    assert _numbers(decode_frames(fragment, {60})) == {60: 60}


@pytest.mark.parametrize("data", [b"", b"not a fragment at all", random.Random(1).randbytes(50_000)])
def test_unreadable_fragments_raise_media_error(data: bytes) -> None:
    with pytest.raises(MediaError):
        open_fragment(data)


# Frames an MP4 edit list leaves out: decoded when needed, never listed or returned.


def _trimmed_fragment(small_clip: Callable[..., bytes], start_ms: int, end_ms: int) -> DemuxedFragment:
    """One fragment of a 6 s MP4 (2 s GOPs, no B-frames) whose edit list presents only [start_ms, end_ms)."""
    from tests.support.edit_lists import with_edit_list

    source = small_clip(frames=150, gop=50, container="mp4")
    return open_fragment(_one_fragment(with_edit_list(source, start_ms, end_ms)))


@pytest.mark.parametrize(
    ("wanted", "expected_decoded"),
    [
        ({0}, 26),  # source frame 25: the key frame and the 24 pre-roll frames before it are decoded too
        ({24}, 50),
        ({25}, 1),  # source frame 50 is a key frame
        ({124}, 50),
    ],
)
def test_pre_roll_frames_are_decoded_but_never_listed_or_returned(
    wanted: set[int], expected_decoded: int, small_clip: Callable[..., bytes]
) -> None:
    # Given the fragment of an MP4 whose edit list starts 1 s in (frames 0-24 are pre-roll of the first GOP)
    fragment = _trimmed_fragment(small_clip, 1000, 6000)

    # Then it lists only the 125 presented frames, from offset 0
    assert [f.offset_ms for f in fragment.frames] == [40 * i for i in range(125)]
    assert fragment.duration_ms == 5000

    # When a frame is decoded; Then it is the presented frame, found by decoding from its GOP's key frame
    decoded = decode_frames(fragment, wanted)
    assert _numbers(decoded) == {index: index + 25 for index in wanted}
    assert fragment.frames_decoded == expected_decoded


def test_frames_after_a_trimmed_end_are_not_listed(small_clip: Callable[..., bytes]) -> None:
    # Given the fragment of an MP4 whose edit list ends at 4.5 s (frames 113-149 are decode-only)
    fragment = _trimmed_fragment(small_clip, 0, 4500)

    # Then it lists frames 0-112 only, and nothing is on screen after the last one ends
    assert len(fragment.frames) == 113
    assert fragment.duration_ms == 4520
    assert fragment.frame_index_at(4519) == 112
    assert fragment.frame_index_at(4520) is None
    assert _numbers(decode_frames(fragment, {112})) == {112: 112}


def _tagged(data: bytes, tags: dict[str, str]) -> bytes:
    """The fragment remuxed with extra Matroska tags (the way the splitter writes its presentation window)."""
    out = io.BytesIO()
    with av.open(io.BytesIO(data)) as source, av.open(out, "w", format="matroska") as target:
        target.metadata.update(tags)
        track = target.add_stream_from_template(source.streams.video[0], opaque=True)
        for packet in source.demux(video=0):
            if packet.size:
                packet.stream = track
                target.mux(packet)
    return out.getvalue()


def test_the_presentation_window_tags_choose_the_listed_frames(small_clip: Callable[..., bytes]) -> None:
    # Given a 100-frame fragment tagged to present [400 ms, 800 ms) from its earliest frame: frames 10-19
    data = _tagged(
        _one_fragment(small_clip(frames=FRAMES, gop=GOP, bframes=2)),
        {"STILLFRAME_PRESENT_FROM": "400", "STILLFRAME_PRESENT_UNTIL": "800"},
    )

    # When it is opened
    fragment = open_fragment(data)

    # Then it lists ten frames from offset 0, and frame 0 is source frame 10
    assert [f.offset_ms for f in fragment.frames] == [40 * i for i in range(10)]
    assert _numbers(decode_frames(fragment, {0, 9})) == {0: 10, 9: 19}
    with pytest.raises(IndexError):
        decode_frames(fragment, {10})


@pytest.mark.parametrize(("start", "end"), [("later", "800"), ("4000", "5000")])
def test_a_broken_or_empty_presentation_window_is_a_media_error(
    start: str, end: str, small_clip: Callable[..., bytes]
) -> None:
    # Given a fragment whose window tags are not numbers, or select no frame
    data = _tagged(
        _one_fragment(small_clip(frames=FRAMES, gop=GOP)),
        {"STILLFRAME_PRESENT_FROM": start, "STILLFRAME_PRESENT_UNTIL": end},
    )

    # When it is opened; Then it is refused as unreadable media
    with pytest.raises(MediaError):
        open_fragment(data)
