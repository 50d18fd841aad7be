"""HLS/DASH segments of stored fragments: every frame plays, at its time on the session's timeline."""

from __future__ import annotations

import io
import itertools
import struct
from collections.abc import Callable
from fractions import Fraction

import av
import pytest

from stillframe.errors import MediaError
from stillframe.media.codec_strings import codecs_string
from stillframe.media.segments import (
    VIDEO_TIMESCALE,
    UnsupportedTrack,
    init_segment,
    media_segment,
    tracks_of,
    ts_segment,
)
from stillframe.media.split import iter_fragments
from tests.conftest import T0
from tests.support.synth import read_frame_number

START_MS = T0 * 1000 + 123  # an epoch time that is no whole second
TICKS_PER_MS = VIDEO_TIMESCALE // 1000
FRAME_TICKS = 40 * TICKS_PER_MS  # 25 fps


@pytest.fixture(scope="module")
def fragments(small_clip: Callable[..., bytes]) -> list[bytes]:
    """Two stored 2 s fragments of 25 fps H.264 with B-frames and AAC (through the splitter, as ingest stores them)."""
    source = small_clip(seconds=4, gop=25, bframes=2, audio=True)
    return [fragment.data for fragment in iter_fragments(source, target_ms=2000)]


def _frames(data: bytes) -> list[tuple[int, int]]:
    """(pts, frame number) of every decoded video frame, in output order."""
    with av.open(io.BytesIO(data)) as container:
        return [(frame.pts or 0, read_frame_number(frame.to_image())) for frame in container.decode(video=0)]


def _first_presented_ticks(segment: bytes) -> int:
    """tfdt plus the smallest decode time + composition offset of the trun, read from the boxes themselves."""
    tfdt = segment.index(b"tfdt")
    base = struct.unpack_from(">Q", segment, tfdt + 8)[0]
    trun = segment.index(b"trun")
    count = struct.unpack_from(">I", segment, trun + 8)[0]
    entries = [struct.unpack_from(">IIIi", segment, trun + 16 + 16 * n) for n in range(count)]
    decode, presented = base, []
    for duration, _, _, offset in entries:
        presented.append(decode + offset)
        decode += duration
    return min(presented)


def test_media_segment_presents_every_frame_at_start_plus_its_offset(fragments: list[bytes]) -> None:
    # Given the first fragment's init and media segments for the video track, the fragment placed at START_MS
    segment = media_segment(fragments[0], 1, start_ms=START_MS, sequence=1)
    frames = _frames(init_segment(fragments[0], 1) + segment)

    # Then its 50 frames come out in order, frame n at START_MS + 40 n ms, the first exactly at START_MS by the boxes
    assert [number for _, number in frames] == list(range(50))
    assert [pts for pts, _ in frames] == [START_MS * TICKS_PER_MS + n * FRAME_TICKS for n in range(50)]
    assert _first_presented_ticks(segment) == START_MS * TICKS_PER_MS


def test_b_frames_keep_decode_order_with_composition_offsets(fragments: list[bytes]) -> None:
    # Given a fragment whose B-frames are stored in decode order
    segment = media_segment(fragments[0], 1, start_ms=START_MS, sequence=1)

    # Then the trun carries composition offsets (decode order differs from presentation order) and the mfhd the
    # sequence number, and the decoded frames still come out in presentation order
    trun = segment.index(b"trun")
    count = struct.unpack_from(">I", segment, trun + 8)[0]
    offsets = [struct.unpack_from(">i", segment, trun + 16 + 16 * n + 12)[0] for n in range(count)]
    assert len(set(offsets)) > 1 and min(offsets) >= 0
    assert struct.unpack_from(">I", segment, segment.index(b"mfhd") + 8)[0] == 1
    assert [number for _, number in _frames(init_segment(fragments[0], 1) + segment)] == list(range(50))


def test_consecutive_fragments_play_on_after_one_init(fragments: list[bytes]) -> None:
    # Given one init segment (built from the second fragment) and both fragments' media segments, 2 s apart
    init = init_segment(fragments[1], 1)
    first = media_segment(fragments[0], 1, start_ms=START_MS, sequence=1)
    second = media_segment(fragments[1], 1, start_ms=START_MS + 2000, sequence=2)

    # Then the init is the same whichever fragment it came from, and the frames run on without a gap or repeat
    assert init == init_segment(fragments[0], 1)
    frames = _frames(init + first + second)
    assert [number for _, number in frames] == list(range(100))
    assert [pts for pts, _ in frames] == [START_MS * TICKS_PER_MS + n * FRAME_TICKS for n in range(100)]


def test_audio_segment_covers_the_fragment(fragments: list[bytes]) -> None:
    # Given the second fragment's AAC track (track 2) as init + media segment
    data = init_segment(fragments[1], 2) + media_segment(fragments[1], 2, start_ms=START_MS, sequence=5)

    # Then it decodes to 48 kHz AAC frames, timed in samples, from the fragment's start to its end (within a frame)
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        frames = [(frame.pts or 0, frame.samples) for frame in container.decode(audio=0)]
    assert stream.codec_context.name == "aac" and stream.time_base == Fraction(1, 48000)
    start, end = START_MS * 48, (START_MS + 2000) * 48
    assert start <= frames[0][0] <= start + 1024 + 48
    assert end - 1024 <= frames[-1][0] + frames[-1][1] <= end + 1024 + 48
    assert all(a + samples == b for (a, samples), (b, _) in itertools.pairwise(frames))


def test_ts_segment_holds_every_frame_and_the_audio(fragments: list[bytes]) -> None:
    # Given the first fragment as an MPEG-TS segment at START_MS
    data = ts_segment(fragments[0], start_ms=START_MS, sequence=1)

    # Then every frame is there in order, the first at START_MS on the 33-bit 90 kHz clock, and the AAC track too
    frames = _frames(data)
    assert [number for _, number in frames] == list(range(50))
    assert frames[0][0] == START_MS * 90 % (1 << 33)
    with av.open(io.BytesIO(data)) as container:
        assert [stream.codec_context.name for stream in container.streams] == ["h264", "aac"]
        assert sum(frame.samples for frame in container.decode(audio=0)) >= 2000 * 48


def test_ts_segment_across_the_33_bit_wrap(fragments: list[bytes]) -> None:
    # Given a start 1 s before the 90 kHz clock wraps
    start_ms = ((1 << 33) // 90 - 1000) + 100_000 * ((1 << 33) // 90)

    # Then the frames still all play, in order
    assert [number for _, number in _frames(ts_segment(fragments[1], start_ms=start_ms, sequence=1))] == list(
        range(50, 100)
    )


def test_tracks_name_codecs_sizes_and_rates(fragments: list[bytes]) -> None:
    video, audio = tracks_of(fragments[0])

    assert (video.number, video.kind, video.width, video.height, video.frame_rate) == (1, "video", 160, 120, 25.0)
    assert video.codec.startswith("avc1.") and len(video.codec) == 11
    assert video.bitrate > 0
    assert (audio.number, audio.kind, audio.codec, audio.sample_rate, audio.channels) == (
        2,
        "audio",
        "mp4a.40.2",
        48000,
        1,
    )


def test_high_profile_h264_codecs_string(small_clip: Callable[..., bytes]) -> None:
    # Given H.264 encoded with 8x8 transforms (High profile)
    (fragment,) = iter_fragments(small_clip(frames=10, encoder_params="8x8dct=1"), target_ms=2000)

    # Then the codecs string names High (0x64) profile and the avcC's level
    (video,) = tracks_of(fragment.data)
    assert video.codec.startswith("avc1.64")


def test_hevc_segment_decodes_as_hvc1(small_clip: Callable[..., bytes]) -> None:
    # Given an H.265 fragment
    (fragment,) = iter_fragments(small_clip(frames=20, gop=10, codec="hevc"), target_ms=2000)

    # Then its init names hvc1, and init + media decode to every frame
    init = init_segment(fragment.data, 1)
    assert b"hvc1" in init and b"hvcC" in init
    assert tracks_of(fragment.data)[0].codec.startswith("hvc1.1.6.L")
    segment = media_segment(fragment.data, 1, start_ms=START_MS, sequence=1)
    assert [number for _, number in _frames(init + segment)] == list(range(20))


def test_vp9_and_opus_go_to_fmp4_but_not_ts(small_clip: Callable[..., bytes]) -> None:
    # Given a WebM upload (VP9 and Opus)
    (fragment,) = iter_fragments(small_clip(frames=10, container="webm", audio=True), target_ms=2000)

    # Then both tracks make fMP4 segments (VP9 frames all decode) and MPEG-TS is refused naming the codec
    video, audio = tracks_of(fragment.data)
    assert video.codec.startswith("vp09.00.") and audio.codec == "opus"
    segment = media_segment(fragment.data, 1, start_ms=START_MS, sequence=1)
    assert [number for _, number in _frames(init_segment(fragment.data, 1) + segment)] == list(range(10))
    assert init_segment(fragment.data, 2)[4:8] == b"ftyp"
    with pytest.raises(UnsupportedTrack, match="vp9"):
        ts_segment(fragment.data, start_ms=START_MS, sequence=1)


def test_missing_track_is_unsupported_with_the_tracks_held(fragments: list[bytes]) -> None:
    with pytest.raises(UnsupportedTrack, match=r"no video or audio track 3 \(its tracks: 1, 2\)") as raised:
        media_segment(fragments[0], 3, start_ms=START_MS, sequence=1)
    assert isinstance(raised.value, MediaError)
    with pytest.raises(UnsupportedTrack, match="track 0"):
        init_segment(fragments[0], 0)


def test_hevc_codecs_string_follows_annex_e() -> None:
    # Given an hvcC of Main profile, compatibility flags 1 and 2, Main tier level 3.1, progressive source flag only
    hvcc = bytes([1, 0x01, 0x60, 0, 0, 0, 0xB0, 0, 0, 0, 0, 0, 93])

    assert codecs_string("hevc", hvcc) == "hvc1.1.6.L93.B0"


def test_av1_and_annex_b_h264_codecs_strings() -> None:
    assert codecs_string("av1", bytes([0x81, 0x08, 0x0C, 0x00])) == "av01.0.08M.08"
    sps = b"\x00\x00\x00\x01\x67\x64\x00\x28\xac"
    assert codecs_string("h264", sps) == "avc1.640028"
    assert codecs_string("aac", bytes([0x2B, 0x88])) == "mp4a.40.5"
