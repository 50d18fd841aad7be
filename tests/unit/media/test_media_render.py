"""Scaling and encoding decoded frames into JPEG and PNG stills."""

from __future__ import annotations

import io
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import av
import numpy as np
import pytest
from PIL import Image

from stillframe.media.render import output_size, render
from tests.support.synth import read_frame_number

JPEG_MAGIC = b"\xff\xd8\xff"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def frame(clip_factory: Callable[..., bytes]) -> av.VideoFrame:
    """Frame 7 of a 320x240 synthetic clip."""
    with av.open(io.BytesIO(clip_factory(frames=8, gop=8))) as container:
        return list(container.decode(video=0))[7]


@pytest.mark.parametrize(
    ("source", "asked", "expected"),
    [
        ((1920, 1080), (None, None), (1920, 1080)),  # neither: the source size
        ((1920, 1080), (640, 480), (640, 480)),  # both: exactly that, stretched
        ((1920, 1080), (None, 360), (640, 360)),  # height only: width from the aspect ratio
        ((320, 240), (None, 101), (135, 101)),  # 134.67 rounds to nearest
        ((1000, 3), (None, 1), (333, 1)),
        ((3, 1000), (None, 1), (1, 1)),  # never narrower than one pixel
        ((160, 120), (None, 2000), (2667, 2000)),  # upscaling is allowed
    ],
)
def test_output_size(source: tuple[int, int], asked: tuple[int | None, int | None], expected: tuple[int, int]) -> None:
    assert output_size(*source, *asked) == expected


def test_output_size_rejects_a_width_alone() -> None:
    with pytest.raises(ValueError):
        output_size(1920, 1080, 640, None)


@pytest.mark.parametrize(("width", "height"), [(320, 240), (80, 60), (641, 361), (1, 1)])
def test_jpeg_is_a_baseline_jfif_still_of_the_asked_size(frame: av.VideoFrame, width: int, height: int) -> None:
    # When a frame is rendered as JPEG
    data = render(frame, width=width, height=height, image_format="JPEG", quality=80)

    # Then it is a standard baseline JFIF file of exactly that size, in 4:2:0 where the size allows
    assert data.startswith(JPEG_MAGIC)
    image = Image.open(io.BytesIO(data))
    assert (image.format, image.size, image.mode) == ("JPEG", (width, height), "RGB")
    assert "jfif" in image.info
    assert not image.info.get("progressive")
    if width > 1 and height > 1:
        assert image.layer[0][1:3] == (2, 2)  # type: ignore[attr-defined]


def test_png_is_a_standard_rgb_still_of_the_asked_size(frame: av.VideoFrame) -> None:
    data = render(frame, width=200, height=100, image_format="PNG")
    assert data.startswith(PNG_MAGIC)
    image = Image.open(io.BytesIO(data))
    image.load()
    assert (image.format, image.size, image.mode) == ("PNG", (200, 100), "RGB")


@pytest.mark.parametrize(("image_format", "size"), [("JPEG", (320, 240)), ("JPEG", (80, 60)), ("PNG", (160, 120))])
def test_the_rendered_still_shows_the_decoded_frame(
    frame: av.VideoFrame, image_format: str, size: tuple[int, int]
) -> None:
    # When frame 7 is rendered, even at a quarter of its size and at low quality
    data = render(frame, width=size[0], height=size[1], image_format=image_format, quality=30)

    # Then the still shows frame 7
    assert read_frame_number(data) == 7


def test_jpeg_quality_changes_the_file_size(frame: av.VideoFrame) -> None:
    low = render(frame, width=320, height=240, image_format="JPEG", quality=10)
    default = render(frame, width=320, height=240, image_format="JPEG")
    high = render(frame, width=320, height=240, image_format="JPEG", quality=100)
    assert len(low) < len(default) < len(high)


@pytest.mark.parametrize("colorspace", ["ITU601", "ITU709"])
@pytest.mark.parametrize("image_format", ["JPEG", "PNG"])
def test_colours_survive_range_and_matrix_conversion(colorspace: str, image_format: str) -> None:
    # Given a limited-range video frame of known colours, tagged BT.601 or BT.709
    colours = [(200, 30, 60), (20, 160, 220), (128, 128, 128), (16, 16, 16), (240, 240, 240)]
    picture = np.zeros((64, 64 * len(colours), 3), np.uint8)
    for i, colour in enumerate(colours):
        picture[:, 64 * i : 64 * (i + 1)] = colour
    video = av.VideoFrame.from_ndarray(picture, format="rgb24").reformat(format="yuv420p", dst_colorspace=colorspace)

    # When it is rendered
    data = render(video, width=video.width, height=video.height, image_format=image_format, quality=95)

    # Then a standard viewer shows the same colours (no washed-out range, no wrong matrix)
    shown = np.asarray(Image.open(io.BytesIO(data)).convert("RGB")).astype(int)
    for i, colour in enumerate(colours):
        assert np.abs(shown[32, 64 * i + 32] - np.array(colour)).max() <= 6


def test_rendering_from_threads_gives_the_same_bytes(frame: av.VideoFrame) -> None:
    # Given one frame rendered sequentially
    jobs = [("JPEG", 320, 240), ("PNG", 160, 120), ("JPEG", 100, 75)] * 4
    expected = [render(frame, width=w, height=h, image_format=f) for f, w, h in jobs]

    # When the same work runs on a thread pool; Then every still is identical
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda job: render(frame, width=job[1], height=job[2], image_format=job[0]), jobs))
    assert results == expected


@pytest.mark.parametrize(
    "kwargs",
    [
        {"image_format": "GIF"},
        {"image_format": "jpeg"},
        {"image_format": "JPEG", "quality": 0},
        {"image_format": "JPEG", "quality": 101},
        {"image_format": "JPEG", "width": 0},
    ],
)
def test_invalid_render_arguments_are_refused(frame: av.VideoFrame, kwargs: dict[str, object]) -> None:
    arguments: dict[str, object] = {"width": 32, "height": 24, **kwargs}
    with pytest.raises(ValueError):
        render(frame, **arguments)  # type: ignore[arg-type]


def _chroma(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("YCbCr"), int)[..., 1:]


@pytest.mark.parametrize(("width", "height"), [(33, 17), (1281, 721), (320, 240)])
def test_jpeg_colour_sits_where_libjpeg_puts_it(width: int, height: int) -> None:
    # Given a frame of narrow colour stripes (edges every few pixels, where misplaced chroma shows)
    rng = np.random.default_rng(1)
    picture = np.zeros((240, 320, 3), np.uint8)
    for x in range(0, 320, 7):
        picture[:, x : x + 7] = rng.integers(0, 255, 3)
    for y in range(0, 240, 5):
        picture[y : y + 2] = rng.integers(0, 255, 3)
    video = av.VideoFrame.from_ndarray(picture, format="rgb24").reformat(format="yuv420p")

    # When it is rendered as JPEG, and the same frame scaled to RGB is encoded by plain libjpeg at 4:2:0
    ours = render(video, width=width, height=height, image_format="JPEG", quality=95)
    reference = io.BytesIO()
    video.reformat(width, height, "rgb24").to_image().save(reference, "JPEG", quality=95, subsampling=2)

    # Then the colour planes agree (a one-pixel shift of chroma, as swscale's odd-size 4:2:0 gives, is ~3 levels)
    assert np.abs(_chroma(ours) - _chroma(reference.getvalue())).mean() < 2.0


@pytest.mark.parametrize(
    ("shown", "fitted"),
    [
        ((1920, 1080), (1920, 1080)),
        ((1080, 1920), (1080, 1920)),  # portrait: the box turns with the picture
        ((3840, 2160), (3840, 2160)),
        ((7680, 4320), (3840, 2160)),
        ((16000, 16384), (2160, 2211)),  # the short side decides
        ((16000, 64), (3840, 15)),  # the long side decides
        ((100000, 1), (3840, 1)),  # never below one pixel
    ],
)
def test_the_original_size_fits_inside_the_box_in_its_own_orientation(shown, fitted):
    assert output_size(*shown, None, None) == fitted


def test_a_size_given_in_full_is_kept():
    assert output_size(16000, 16384, 3840, 2160) == (3840, 2160)
