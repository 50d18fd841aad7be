"""Render a delivery job's images with the GetImages engine: the same frame, size, orientation and encoding.

A fragment owns the samples of the SamplingInterval grid it covers in the ImageSelectorType timeline where it is
the fragment GetImages would show (where fragments overlap, the one that started last); each image is exactly
what GetImages answers for that time.
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass

from stillframe.catalog.fragments import FragmentIndex
from stillframe.delivery.jobs import DeliveryJob
from stillframe.delivery.layout import sample_times
from stillframe.domain.clocks import timeline_of
from stillframe.domain.image_generation_requests import ImageGenerationConfiguration
from stillframe.domain.selection import covering
from stillframe.images.engine import RenderSpec, render_page
from stillframe.images.plan import plan_page

RENDER_BUDGET_S = 600.0  # no response to fit: the whole fragment is rendered
UNLIMITED_BYTES = 1 << 62


@dataclass(frozen=True)
class GeneratedImage:
    """One image: its time in the selector's timeline, in the other one, and its encoded bytes."""

    timecode_ms: int
    other_ms: int
    data: bytes


def generate_images(job: DeliveryJob, index: FragmentIndex) -> tuple[list[GeneratedImage], int]:
    """The job's images in time order, and how many of its samples gave none (MEDIA_ERROR).

    Raises ObjectNotFound when the fragment is gone (stream deleted or expired), or the store's error when it
    cannot be read now (the caller retries).
    """
    config, record = job.configuration, job.fragment
    timeline = timeline_of(config.selector)
    other = timeline.other
    grid = sample_times(record.start(timeline), record.duration_ms, config.interval_ms)
    if not grid:
        return [], 0
    data = index.blob(record)  # read errors surface here, not as MEDIA_ERROR inside the engine
    candidates = [c for c in index.covering_candidates(record.stream, timeline, grid[0], grid[-1])]
    candidates += [] if any(c.number == record.number for c in candidates) else [record]
    owned = [
        t for t in grid if (shown := covering(candidates, timeline, t)) is not None and shown.number == record.number
    ]
    if not owned:
        return [], 0
    plan = plan_page(owned, [record], timeline)
    spec = _spec(config, data)
    outcomes, _ = render_page(
        plan, index, spec, deadline=time.monotonic() + RENDER_BUDGET_S, byte_budget=UNLIMITED_BYTES
    )
    shift = record.start(other) - record.start(timeline)
    images = [
        GeneratedImage(outcome.timestamp_ms, outcome.timestamp_ms + shift, base64.b64decode(outcome.content))
        for outcome in outcomes
        if outcome.content is not None
    ]
    return images, len(outcomes) - len(images)


def _spec(config: ImageGenerationConfiguration, data: bytes) -> RenderSpec:
    """GetImages' rendering parameters from the configuration.

    WidthPixels alone is allowed here (the ImageGenerationConfiguration reference: the height follows the original
    aspect ratio), unlike GetImages; the height is computed from the fragment's display size, and the size fitted
    inside 3840x2160 (``render.fit_box``) as every size Stillframe chooses is.
    """
    width, height = config.width, config.height
    if width is not None and height is None:
        from stillframe.media.fragment import open_fragment
        from stillframe.media.render import fit_box

        fragment = open_fragment(data)
        shown_w, shown_h = fragment.display.size(fragment.width, fragment.height)
        # The height the aspect ratio asks for is bounded like any size Stillframe chooses: a 16x4096 picture at
        # WidthPixels 3840 would otherwise be 983,040 rows high.
        width, height = fit_box(width, max(1, round(shown_h * width / shown_w)))
    return RenderSpec(config.image_format, config.quality, width, height)
