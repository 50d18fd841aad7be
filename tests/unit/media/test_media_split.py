"""Splitting uploads into standalone Matroska fragments at key frames."""

from __future__ import annotations

import io
import itertools
import random
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import av
import pytest

from stillframe.errors import MediaError
from stillframe.media.split import MediaFragment, iter_fragments, probe_duration_ms
from tests.support.hostile import plain_clip

FRAME_MS = 40
GOP = 25  # one second at 25 fps
FRAMES = 130  # five whole GOPs and a short sixth one

SOURCES = {
    "mkv-h264": {"container": "matroska"},
    "webm-vp9": {"container": "webm"},
    "mp4-bframes-editlist": {"container": "mp4", "bframes": 2},
    "mp4-fragmented": {"container": "mp4-frag"},
    "mpegts-bframes": {"container": "mpegts", "bframes": 2},
    "mkv-hevc-bframes": {"container": "matroska", "codec": "libx265", "bframes": 2},
}
CODECS = {"mkv-h264": "h264", "webm-vp9": "vp9", "mkv-hevc-bframes": "hevc"}


def _split(data: bytes, **kwargs: int) -> list[MediaFragment]:
    return list(iter_fragments(data, **kwargs))


def _first_packet_is_key(fragment: MediaFragment) -> bool:
    with av.open(io.BytesIO(fragment.data)) as container:
        packet = next(p for p in container.demux(video=0) if p.size)
        return bool(packet.is_keyframe)


@pytest.mark.parametrize("name", SOURCES)
def test_every_container_splits_into_standalone_fragments_that_tile_the_timeline(
    name: str, small_clip: Callable[..., bytes], frame_numbers: Callable[[bytes], list[int]]
) -> None:
    # Given a 130-frame upload with a key frame every second, in one of the supported containers
    source = small_clip(frames=FRAMES, gop=GOP, **SOURCES[name])

    # When it is split with the default 2 s target
    fragments = _split(source, target_ms=2000)

    # Then each fragment decodes on its own, starts on a key frame, and shows consecutive source frames
    seen: list[int] = []
    for fragment in fragments:
        numbers = frame_numbers(fragment.data)
        assert _first_packet_is_key(fragment)
        assert numbers == list(range(numbers[0], numbers[0] + fragment.frame_count))
        assert numbers[0] % GOP == 0  # never cut inside a GOP
        assert fragment.offset_ms == numbers[0] * FRAME_MS  # frame 0 of the source is the first presented frame
        seen.extend(numbers)
    # And together they hold every source frame once, back to back on the timeline
    assert seen == list(range(FRAMES))
    assert fragments[0].offset_ms == 0
    for before, after in itertools.pairwise(fragments):
        assert after.offset_ms == before.offset_ms + before.duration_ms
        assert after.pts_ms - before.pts_ms == after.offset_ms - before.offset_ms
    assert sum(f.duration_ms for f in fragments) == FRAMES * FRAME_MS
    # And the fragments are ~2 s: two whole GOPs each, the remainder last
    assert [f.frame_count for f in fragments] == [50, 50, 30]
    assert all((f.width, f.height) == (160, 120) for f in fragments)
    if name in CODECS:
        assert {f.codec for f in fragments} == {CODECS[name]}


def test_fragments_are_matroska_with_the_video_first_and_the_audio_second(
    small_clip: Callable[..., bytes], with_audio_first: Callable[[bytes], bytes]
) -> None:
    # Given an upload whose first track is audio and second is video
    source = with_audio_first(small_clip(frames=50, gop=GOP))

    # When it is split
    fragments = _split(source)

    # Then every fragment is a Matroska file holding the video as track 1 and the audio as track 2, all frames kept
    for fragment in fragments:
        with av.open(io.BytesIO(fragment.data)) as container:
            assert "matroska" in container.format.name
            assert [stream.type for stream in container.streams] == ["video", "audio"]
        assert fragment.audio_codec == "aac"
    assert sum(f.frame_count for f in fragments) == 50


@pytest.mark.parametrize(("target_ms", "expected_counts"), [(1, [25] * 5 + [5]), (1500, [50, 50, 30]), (10_000, [130])])
def test_target_duration_is_reached_before_cutting_at_the_next_key_frame(
    target_ms: int, expected_counts: list[int], small_clip: Callable[..., bytes]
) -> None:
    # Given an upload with one-second GOPs
    source = small_clip(frames=FRAMES, gop=GOP)

    # When it is split with various targets
    fragments = _split(source, target_ms=target_ms)

    # Then a fragment grows GOP by GOP until it reaches the target, never beyond the next key frame
    assert [f.frame_count for f in fragments] == expected_counts


def test_max_bytes_keeps_fragments_small_without_splitting_a_gop(small_clip: Callable[..., bytes]) -> None:
    # Given an upload and the size of its largest single GOP as a fragment
    source = small_clip(frames=FRAMES, gop=GOP)
    one_gop = max(len(f.data) for f in _split(source, target_ms=1))
    limit = int(one_gop * 2.5)

    # When it is split with a long target but a byte limit of about two and a half GOPs
    fragments = _split(source, target_ms=60_000, max_bytes=limit)

    # Then every fragment fits the limit, holds whole GOPs, and some hold more than one
    assert all(len(f.data) <= limit for f in fragments)
    assert all(f.frame_count % GOP == 0 for f in fragments[:-1])
    assert max(f.frame_count for f in fragments) == 2 * GOP
    assert sum(f.frame_count for f in fragments) == FRAMES


def test_a_gop_larger_than_max_bytes_becomes_a_fragment_alone(small_clip: Callable[..., bytes]) -> None:
    # Given a byte limit smaller than any GOP
    source = small_clip(frames=FRAMES, gop=GOP)

    # When the upload is split
    fragments = _split(source, target_ms=60_000, max_bytes=100)

    # Then each GOP is its own fragment (over the limit, but never cut inside)
    assert [f.frame_count for f in fragments] == [25] * 5 + [5]


def test_path_and_file_object_sources_give_the_same_fragments(small_clip: Callable[..., bytes], tmp_path: Path) -> None:
    # Given the same upload as bytes, as a file on disk and as an open binary file
    source = small_clip(frames=60, gop=GOP, container="mp4")
    path = tmp_path / "upload.mp4"
    path.write_bytes(source)

    # When each is split
    from_bytes = _split(source)
    from_path = _split(str(path))  # type: ignore[arg-type]
    with path.open("rb") as handle:
        from_file = list(iter_fragments(handle))

    # Then the fragments are identical
    assert from_path == from_bytes
    assert from_file == from_bytes


def test_probe_duration_reports_the_container_duration(small_clip: Callable[..., bytes]) -> None:
    # Given a 4 s upload; When its duration is probed; Then it is 4000 ms
    assert probe_duration_ms(small_clip(frames=100, gop=GOP)) == 4000


def _random_bytes(size: int) -> bytes:
    return random.Random(size).randbytes(size)


BAD_INPUTS = {
    "empty": lambda clip: b"",
    "random-small": lambda clip: _random_bytes(64),
    "random-large": lambda clip: _random_bytes(300_000),
    "text": lambda clip: b"just some notes, not a video\n" * 200,
    "mp4-cut-in-half": lambda clip: (mp4 := clip(frames=50, gop=GOP, container="mp4"))[: len(mp4) // 2],
    "mkv-header-only": lambda clip: clip(frames=50, gop=GOP)[:300],
}


@pytest.mark.parametrize("name", BAD_INPUTS)
def test_unreadable_media_raises_media_error(name: str, small_clip: Callable[..., bytes]) -> None:
    # Given bytes that are not a usable video
    data = BAD_INPUTS[name](small_clip)

    # When they are split; Then a MediaError says so
    with pytest.raises(MediaError, match=r"cannot parse media|no decodable video|the MP4 index \(moov\) is missing"):
        _split(data)


def test_a_text_file_path_is_refused_even_though_ffmpeg_can_render_text(tmp_path: Path) -> None:
    # Given a .txt file (FFmpeg's "tty" demuxer would turn it into a video track)
    path = tmp_path / "notes.txt"
    path.write_text("hello\n" * 100)

    # When it is split; Then it is refused as an unsupported container
    with pytest.raises(MediaError, match="not a supported container"):
        _split(str(path))  # type: ignore[arg-type]


def test_a_still_image_is_refused() -> None:
    # Given a PNG picture
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 48)).save(buffer, "PNG")

    # When it is split; Then it is refused as an unsupported container
    with pytest.raises(MediaError, match="not a supported container"):
        _split(buffer.getvalue())


def test_an_uploaded_playlist_cannot_make_ffmpeg_read_other_files(
    small_clip: Callable[..., bytes], tmp_path: Path
) -> None:
    # Given an upload spooled to disk that is an FFmpeg concat script naming a video stored next to it
    (tmp_path / "other-tenant.mkv").write_bytes(small_clip(frames=10, gop=10))
    upload = tmp_path / "upload.bin"
    upload.write_text("ffconcat version 1.0\nfile other-tenant.mkv\n")

    # When it is split; Then it is refused instead of being followed to the other file
    with pytest.raises(MediaError, match="not a supported container"):
        _split(str(upload))  # type: ignore[arg-type]


def test_audio_only_media_has_no_video_track(
    with_audio_first: Callable[[bytes], bytes], small_clip: Callable[..., bytes]
) -> None:
    # Given a file with an audio track only
    mixed = with_audio_first(small_clip(frames=25, gop=GOP))
    out = io.BytesIO()
    with av.open(io.BytesIO(mixed)) as source, av.open(out, "w", format="matroska") as target:
        track = target.add_stream_from_template(source.streams.audio[0], opaque=True)
        for packet in source.demux(source.streams.audio[0]):
            if packet.size:
                packet.stream = track
                target.mux(packet)

    # When it is split; Then the error names the missing video track
    with pytest.raises(MediaError, match="no video track"):
        _split(out.getvalue())


def test_a_truncated_matroska_upload_keeps_the_frames_that_arrived(
    small_clip: Callable[..., bytes], frame_numbers: Callable[[bytes], list[int]]
) -> None:
    # Given the first 60% of a Matroska upload (a connection dropped mid-stream)
    source = small_clip(frames=100, gop=GOP)
    truncated = source[: int(len(source) * 0.6)]

    # When it is split
    fragments = _split(truncated, target_ms=1)

    # Then the complete GOPs and the decodable start of the cut one are kept, in order
    numbers = [n for f in fragments for n in frame_numbers(f.data)]
    assert numbers == list(range(len(numbers)))
    assert 50 <= len(numbers) < 100


def test_splitting_the_same_upload_twice_gives_identical_bytes(small_clip: Callable[..., bytes]) -> None:
    # Given one upload; When it is split twice
    source = small_clip(frames=60, gop=GOP)
    first, second = _split(source), _split(source)

    # Then the fragments are byte for byte the same (no random IDs or dates: uploads deduplicate by content)
    assert [f.data for f in first] == [f.data for f in second]


# MP4 edit lists: a stream-copied cut (ffmpeg -ss/-t -c copy) keeps whole GOPs and lets the edit list hide the rest.


def _presented_numbers(fragment: MediaFragment) -> list[int]:
    """The numbers of the frames the fragment presents, read through the fragment reader (which honours the window)."""
    from stillframe.media.fragment import open_fragment
    from tests.support.decoding import decode_frames
    from tests.support.synth import read_frame_number

    opened = open_fragment(fragment.data)
    decoded = decode_frames(opened, range(len(opened.frames)))
    assert [f.offset_ms for f in opened.frames] == [FRAME_MS * i for i in range(fragment.frame_count)]
    return [read_frame_number(decoded[index].to_image()) for index in range(len(opened.frames))]


def _assert_tiled(fragments: list[MediaFragment], first: int, count: int) -> None:
    """Fragments start on key frames, present source frames first..first+count-1 once each, back to back from 0."""
    numbers: list[int] = []
    for fragment in fragments:
        assert _first_packet_is_key(fragment)
        presented = _presented_numbers(fragment)
        assert len(presented) == fragment.frame_count
        assert fragment.duration_ms == fragment.frame_count * FRAME_MS
        numbers.extend(presented)
    assert numbers == list(range(first, first + count))
    assert fragments[0].offset_ms == 0
    for before, after in itertools.pairwise(fragments):
        assert after.offset_ms == before.offset_ms + before.duration_ms
        assert after.pts_ms - before.pts_ms == after.offset_ms - before.offset_ms
    assert sum(f.frame_count for f in fragments) == count


@pytest.mark.parametrize("bframes", [0, 2])
def test_a_start_trimmed_by_an_edit_list_is_presented_from_the_edit(
    bframes: int, small_clip: Callable[..., bytes]
) -> None:
    # Given a 6 s MP4 (2 s GOPs) whose edit list starts 1 s in, mid-GOP: frames 0-24 are decode-only pre-roll
    from tests.support.edit_lists import with_edit_list

    source = with_edit_list(small_clip(frames=150, gop=50, container="mp4", bframes=bframes), 1000, 6000)

    # When it is split
    fragments = _split(source, target_ms=2000)

    # Then the first presented frame is source frame 25, at offset 0 and source time 0
    assert _presented_numbers(fragments[0])[0] == 25
    assert fragments[0].pts_ms == 0
    # And the fragments tile frames 25-149 only: the first holds the short first GOP and the next whole one
    _assert_tiled(fragments, first=25, count=125)
    assert [f.frame_count for f in fragments] == [75, 50]
    # And the pre-roll is still in the first fragment (its key frame is frame 0), and splitting stays deterministic
    assert sum(1 for p in av.open(io.BytesIO(fragments[0].data)).demux(video=0) if p.size) == 100
    assert [f.data for f in _split(source, target_ms=2000)] == [f.data for f in fragments]


@pytest.mark.parametrize("bframes", [0, 2])
def test_an_end_trimmed_by_an_edit_list_is_not_presented(bframes: int, small_clip: Callable[..., bytes]) -> None:
    # Given a 6 s MP4 whose edit list ends at 4.5 s: frames 113-149 are decode-only
    from tests.support.edit_lists import with_edit_list

    source = with_edit_list(small_clip(frames=150, gop=50, container="mp4", bframes=bframes), 0, 4500)

    # When it is split
    fragments = _split(source, target_ms=2000)

    # Then frames 0-112 are presented, the last fragment ending with frame 112
    _assert_tiled(fragments, first=0, count=113)
    assert [f.frame_count for f in fragments] == [50, 50, 13]
    assert fragments[-1].offset_ms + fragments[-1].duration_ms == 113 * FRAME_MS


@pytest.mark.parametrize("bframes", [0, 2])
def test_gops_made_only_of_trimmed_frames_are_never_fragments(bframes: int, small_clip: Callable[..., bytes]) -> None:
    # Given an MP4 with 1 s GOPs whose edit list ends at 1.9 s: the demuxer still returns whole later GOPs (or
    # their key frame), every frame flagged discard
    from tests.support.edit_lists import with_edit_list

    source = with_edit_list(small_clip(frames=150, gop=GOP, container="mp4", bframes=bframes), 0, 1900)

    # When it is split one GOP per fragment
    fragments = _split(source, target_ms=1)

    # Then only the two GOPs with presented frames become fragments
    assert [f.frame_count for f in fragments] == [25, 23]
    _assert_tiled(fragments, first=0, count=48)


def test_an_edit_list_hiding_every_frame_leaves_nothing_to_split(small_clip: Callable[..., bytes]) -> None:
    # Given an MP4 whose edit list presents nothing of its only GOP (it starts after the last frame)
    from tests.support.edit_lists import with_edit_list

    source = with_edit_list(small_clip(frames=20, gop=GOP, container="mp4"), 2000, 3000)

    # When it is split; Then there is no presented video to store
    with pytest.raises(MediaError, match="no decodable video"):
        _split(source)


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs the ffmpeg CLI")
def test_an_ffmpeg_stream_copy_cut_starts_at_the_cut(small_clip: Callable[..., bytes], tmp_path: Path) -> None:
    # Given the real-world case: ffmpeg -ss 1 -c copy on a 6 s MP4 with 2 s GOPs (the cut falls mid-GOP)
    source = tmp_path / "clip.mp4"
    source.write_bytes(small_clip(frames=150, gop=50, container="mp4"))
    cut = tmp_path / "cut.mp4"
    command = ["ffmpeg", "-loglevel", "error", "-y", "-ss", "1", "-i", str(source), "-c", "copy", str(cut)]
    subprocess.run(command, check=True)

    # When the cut is split
    fragments = _split(cut.read_bytes(), target_ms=2000)

    # Then what a player shows is what is stored: frame 25 first, at offset 0
    _assert_tiled(fragments, first=25, count=125)


def test_a_fragment_never_holds_more_than_2400_frames_of_whole_gops():
    # Given 2.4 s at 2000 fps in 100-frame GOPs: 4,800 frames, more than two fragments' worth
    pieces = list(iter_fragments(plain_clip(width=64, height=64, frames=4800, fps=2000, gop=100), target_ms=2000))
    # Then each fragment holds at most 2,400 frames, and every frame is in one
    assert max(piece.frame_count for piece in pieces) <= 2400
    assert sum(piece.frame_count for piece in pieces) == 4800


@pytest.mark.parametrize("shape", [{}, {"bframes": 2}, {"codec": "libx265", "bframes": 2}, {"rotation_ccw": -90}])
def test_a_producer_cluster_split_without_probing_gives_the_same_fragment(shape: dict[str, object]) -> None:
    # Given the clusters a KVS producer sends, each as the standalone file serve's session reader makes of it
    from stillframe.media.mkv_stream import ClusterComplete, read_clusters
    from tests.support.producer import sdk_stream
    from tests.support.synth import make_clip

    media = sdk_stream(make_clip(seconds=3, gop=GOP, **shape), start_ms=1_000_000)  # type: ignore[arg-type]
    events = read_clusters(iter([media.header, *(data for _, data in media.clusters)]), max_cluster_bytes=1 << 24)
    clusters = [event.media for event in events if isinstance(event, ClusterComplete)]
    # When each is split with FFmpeg's probing off (the session's path) and on (any upload's)
    # Then the fragments are the same, bytes, times and display transform included
    assert len(clusters) == 3
    for cluster in clusters:
        assert list(iter_fragments(cluster, target_ms=10**9, probe=False)) == list(
            iter_fragments(cluster, target_ms=10**9)
        )
