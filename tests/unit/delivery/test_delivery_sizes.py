"""Image delivery's still size: WidthPixels alone takes its height from the picture, bounded like every size
Stillframe chooses."""

from __future__ import annotations

from stillframe.delivery.generate import _spec
from stillframe.domain.image_generation_requests import ImageGenerationConfiguration
from tests.functional.test_image_generation_config import CONFIG
from tests.support.hostile import plain_clip


def spec_for(width_pixels: int, clip: bytes):
    fields = {key: value for key, value in CONFIG.items() if key != "HeightPixels"} | {"WidthPixels": width_pixels}
    config = ImageGenerationConfiguration.model_validate(fields)
    return _spec(config, clip)


def test_width_alone_keeps_the_aspect_ratio():
    spec = spec_for(320, plain_clip(width=640, height=360, frames=2, container="matroska"))
    assert (spec.width, spec.height) == (320, 180)


def test_width_alone_on_a_tall_picture_is_fitted_inside_the_box():
    # A 16x4096 picture at WidthPixels 3840 would be 983,040 rows high: fitted in its own (portrait) orientation
    spec = spec_for(3840, plain_clip(width=16, height=4096, frames=2, container="matroska"))
    assert (spec.width, spec.height) == (15, 3840)
