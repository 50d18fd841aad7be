"""Check that a method returned the right frames: read the frame code out of every still."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image

from bench.scenarios import expected_frame
from tests.support.synth import read_frame_number


def check_frames(images: list[bytes], samples: list[int]) -> dict[str, Any]:
    """``verified`` is true when there is one still per sample and each shows the frame on screen at its time."""
    wrong = []
    for t_ms, data in zip(samples, images, strict=False):
        try:
            number: int | str = read_frame_number(_open_small(data))
        except ValueError as exc:
            number = f"unreadable: {exc}"
        if number != expected_frame(t_ms):
            wrong.append({"t_ms": t_ms, "expected": expected_frame(t_ms), "got": number})
    return {"verified": not wrong and len(images) == len(samples), "mismatches": wrong[:5]}


def _open_small(data: bytes) -> Image.Image:
    """The still, JPEGs decoded at 1/4 scale (the code cells are large; full decodes would dominate the check)."""
    picture = Image.open(io.BytesIO(data))
    if picture.format == "JPEG":
        picture.draft("L", (picture.width // 4, picture.height // 4))
    return picture
