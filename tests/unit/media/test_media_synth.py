"""The synthetic test video: frame numbers that survive encoding, exact key frames and timestamps."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import datetime

import av
import pytest
from PIL import Image, ImageDraw

from tests.support.synth import make_clip, read_frame_number


def _packets(data: bytes) -> list[av.Packet]:
    with av.open(io.BytesIO(data)) as container:
        return [packet for packet in container.demux(video=0) if packet.size]


def _frames(data: bytes) -> list[av.VideoFrame]:
    with av.open(io.BytesIO(data)) as container:
        return list(container.decode(video=0))


def _jpeg(image: Image.Image, scale: int, quality: int) -> bytes:
    buffer = io.BytesIO()
    image.resize((image.width // scale, image.height // scale), Image.Resampling.BILINEAR).save(
        buffer, "JPEG", quality=quality
    )
    return buffer.getvalue()


@pytest.mark.parametrize("codec", ["libx264", "libx265", "vp9"])
def test_every_frame_number_survives_low_quality_jpeg_at_quarter_size(
    codec: str, clip_factory: Callable[..., bytes]
) -> None:
    # Given a 320x240 clip
    frames = _frames(clip_factory(frames=40, gop=20, codec=codec, container="webm" if codec == "vp9" else "matroska"))

    # When each frame is saved as a JPEG at quality 30, full size and a quarter of the size
    # Then every still reads back as its own frame number
    for number, frame in enumerate(frames):
        image = frame.to_image()
        assert read_frame_number(_jpeg(image, 1, 30)) == number
        assert read_frame_number(_jpeg(image, 4, 30)) == number


@pytest.mark.parametrize("container", ["matroska", "mp4", "mp4-frag", "mpegts", "webm"])
def test_containers_hold_the_numbered_frames_in_order(
    container: str, small_clip: Callable[..., bytes], frame_numbers: Callable[[bytes], list[int]]
) -> None:
    # Given a clip in each container; Then plain FFmpeg decoding shows frames 0..N-1 in order
    data = small_clip(frames=30, gop=10, container=container)
    assert frame_numbers(data) == list(range(30))
    if container == "mp4-frag":
        assert b"moof" in data


@pytest.mark.parametrize("bframes", [0, 2])
def test_key_frames_fall_exactly_every_gop_and_b_frames_only_when_asked(
    bframes: int, small_clip: Callable[..., bytes]
) -> None:
    # Given a clip with a 12-frame GOP
    packets = _packets(small_clip(frames=60, gop=12, bframes=bframes))

    # Then key frames are exactly frames 0, 12, 24, ... (no scene-cut extras)
    key_pts = [packet.pts for packet in packets if packet.is_keyframe]
    assert key_pts == [12 * i * 40 for i in range(5)]
    # And frames are reordered (pts out of decode order) exactly when B-frames were asked for
    decode_order_pts = [packet.pts for packet in packets]
    assert (decode_order_pts != sorted(decode_order_pts)) == (bframes > 0)


def test_frame_n_starts_at_n_over_fps_counting_from_start_number(
    small_clip: Callable[..., bytes], frame_numbers: Callable[[bytes], list[int]]
) -> None:
    # Given a 30 fps clip numbered from 1000
    data = small_clip(frames=15, gop=15, fps=30, start_number=1000)

    # Then frame N carries number N and presentation time N / 30 s (to the container's 1 ms precision)
    assert frame_numbers(data) == list(range(1000, 1015))
    times = [frame.time for frame in _frames(data)]
    assert all(abs(time - number / 30) <= 0.0005 for time, number in zip(times, range(1000, 1015), strict=True))


def test_large_frame_numbers_read_back(
    small_clip: Callable[..., bytes], frame_numbers: Callable[[bytes], list[int]]
) -> None:
    # Given frames numbered beyond 16 bits; Then the high bits read back too
    assert frame_numbers(small_clip(frames=3, gop=3, start_number=70_000)) == [70_000, 70_001, 70_002]


def test_clock_text_is_drawn_from_clock_start(clip_factory: Callable[..., bytes]) -> None:
    # Given the same frame drawn with two different clock starts
    first = _frames(clip_factory(frames=1, gop=1, clock_start=datetime(2024, 1, 1, 1, 23, 45, 678_000)))[0]
    second = _frames(clip_factory(frames=1, gop=1, clock_start=datetime(2024, 1, 1, 20, 54, 12, 345_000)))[0]

    # Then the pictures differ where the clock is (the second text line), not in the code band above it
    a, b = (frame.to_ndarray(format="gray").astype(int) for frame in (first, second))
    code_band, clock_line = slice(0, int(a.shape[0] * 0.3)), slice(int(a.shape[0] * 0.5), int(a.shape[0] * 0.62))
    assert abs(a[code_band] - b[code_band]).mean() < 2
    assert abs(a[clock_line] - b[clock_line]).mean() > 10


def test_pictures_without_a_code_are_refused() -> None:
    # Given a flat grey picture; Then no number is guessed
    with pytest.raises(ValueError):
        read_frame_number(Image.new("RGB", (320, 240), (128, 128, 128)))


def test_a_damaged_code_is_refused_not_misread(clip_factory: Callable[..., bytes]) -> None:
    # Given frame 5 with one data cell painted over in the opposite colour
    image = _frames(clip_factory(frames=6, gop=6))[5].to_image()
    assert read_frame_number(image) == 5
    draw = ImageDraw.Draw(image)
    cell_width = 0.94 * image.width / 18
    left = 0.03 * image.width + 17 * cell_width  # the last bit of row A (bit 0 of the number)
    draw.rectangle((left + 2, 0.03 * 240 + 2, left + cell_width - 2, 0.15 * 240 - 2), fill=(255, 255, 255))

    # When it is read; Then the CRC catches it
    with pytest.raises(ValueError):
        read_frame_number(image)


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"seconds": 1, "frames": 25}, {"frames": 0}, {"frames": 5, "width": 161}, {"frames": 5, "container": "avi"}],
)
def test_invalid_clip_requests_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        make_clip(**kwargs)  # type: ignore[arg-type]
