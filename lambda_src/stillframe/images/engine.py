"""Turn a planned page into images: fetch fragments concurrently, decode the least, render, budget.

Fragments are processed in parallel (PyAV and the encoders release the GIL) but consumed in time
order, so the page can stop early, with a NextToken, before the byte or time budget runs out.
"""

from __future__ import annotations

import base64
import logging
import os
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from stillframe.catalog.fragments import FragmentIndex
from stillframe.errors import MediaError
from stillframe.images.plan import MEDIA_ERROR, NO_MEDIA, FragmentWork, PagePlan

logger = logging.getLogger(__name__)

MAX_IMAGE_BASE64 = 6_291_456
RESPONSE_BYTE_BUDGET = 6_000_000
ENTRY_OVERHEAD = 64  # JSON punctuation, field names and the timestamp of one Image entry


@dataclass(frozen=True)
class RenderSpec:
    image_format: str
    quality: int
    width: int | None
    height: int | None


@dataclass
class ImageOutcome:
    timestamp_ms: int
    content: str | None = None  # base64
    error: str | None = None

    def to_json(self) -> dict[str, object]:
        entry: dict[str, object] = {"TimeStamp": self.timestamp_ms / 1000}
        if self.content is not None:
            entry["ImageContent"] = self.content
        else:
            entry["Error"] = self.error
        return entry

    @property
    def json_size(self) -> int:
        return ENTRY_OVERHEAD + len(self.content or self.error or "")


@dataclass
class PageStats:
    fragments: int = 0
    frames_decoded: int = 0
    images: int = 0
    stopped_early: str | None = None


_cpu_pool: ThreadPoolExecutor | None = None
_io_pool: ThreadPoolExecutor | None = None


def _pools() -> tuple[ThreadPoolExecutor, ThreadPoolExecutor]:
    """Process-wide pools, created on first use (warm invocations reuse them)."""
    global _cpu_pool, _io_pool
    if _cpu_pool is None or _io_pool is None:
        _cpu_pool = ThreadPoolExecutor(max_workers=max(1, os.cpu_count() or 1), thread_name_prefix="decode")
        _io_pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="fetch")
    return _cpu_pool, _io_pool


def render_page(
    plan: PagePlan,
    index: FragmentIndex,
    spec: RenderSpec,
    *,
    deadline: float,
    byte_budget: int = RESPONSE_BYTE_BUDGET,
    clock: Callable[[], float] = time.monotonic,
) -> tuple[list[ImageOutcome], PageStats]:
    """Images for the page's samples, in order; possibly fewer (at least one) when a budget runs out."""
    cpu, io = _pools()
    stats = PageStats(fragments=len(plan.work))
    fetches = [io.submit(index.blob, work.record) for work in plan.work]
    jobs = [cpu.submit(_fragment_images, work, fetch, spec) for work, fetch in zip(plan.work, fetches, strict=True)]
    job_of = {pos: i for i, work in enumerate(plan.work) for pos, _ in work.samples}
    done: dict[int, dict[int, ImageOutcome]] = {}
    outcomes: list[ImageOutcome] = []
    used = 0
    for position, t_ms in enumerate(plan.samples):
        if position in plan.no_media:
            outcome = ImageOutcome(t_ms, error=NO_MEDIA)
        else:
            job = job_of[position]
            if job not in done:
                if outcomes and clock() > deadline:
                    stats.stopped_early = "time"
                    break
                done[job], decoded = jobs[job].result()
                stats.frames_decoded += decoded
            outcome = done[job][position]
            outcome.timestamp_ms = t_ms
        if outcomes and used + outcome.json_size > byte_budget:
            stats.stopped_early = "bytes"
            break
        used += outcome.json_size
        outcomes.append(outcome)
    for job_future in jobs:
        job_future.cancel()
    stats.images = len(outcomes)
    return outcomes, stats


def _fragment_images(
    work: FragmentWork, fetch: Future[bytes], spec: RenderSpec
) -> tuple[dict[int, ImageOutcome], int]:
    """Images for one fragment's samples, keyed by page position; MEDIA_ERROR for any failure."""
    from stillframe.domain.selection import frame_at
    from stillframe.media.fragment import open_fragment

    try:
        fragment = open_fragment(fetch.result())
    except Exception as exc:  # a missing or unreadable blob is a MEDIA_ERROR for its samples, never a 500
        logger.warning("fragment unreadable", extra={"fragment": work.record.number, "error": str(exc)})
        return {pos: ImageOutcome(0, error=MEDIA_ERROR) for pos, _ in work.samples}, 0
    offsets = [frame.offset_ms for frame in fragment.frames]
    choice = {pos: frame_at(offsets, offset) for pos, offset in work.samples}
    try:
        frames = fragment.decode({i for i in choice.values() if i is not None})
    except MediaError as exc:
        logger.warning("fragment undecodable", extra={"fragment": work.record.number, "error": str(exc)})
        return {pos: ImageOutcome(0, error=MEDIA_ERROR) for pos, _ in work.samples}, fragment.frames_decoded
    rendered: dict[int, ImageOutcome] = {}
    results: dict[int, ImageOutcome] = {}
    for pos, index in choice.items():
        if index is None or index not in frames:
            results[pos] = ImageOutcome(0, error=MEDIA_ERROR)
            continue
        if index not in rendered:
            rendered[index] = _render(frames[index], fragment.width, fragment.height, spec)
        cached = rendered[index]
        results[pos] = ImageOutcome(0, content=cached.content, error=cached.error)
    return results, fragment.frames_decoded


def _render(frame: object, src_width: int, src_height: int, spec: RenderSpec) -> ImageOutcome:
    from stillframe.media.render import output_size, render

    try:
        width, height = output_size(src_width, src_height, spec.width, spec.height)
        data = render(frame, width=width, height=height, image_format=spec.image_format, quality=spec.quality)  # type: ignore[arg-type]
    except Exception as exc:  # an encoder failure is one MEDIA_ERROR, not a failed page
        logger.warning("render failed", extra={"error": str(exc)})
        return ImageOutcome(0, error=MEDIA_ERROR)
    content = base64.b64encode(data).decode("ascii")
    if len(content) > MAX_IMAGE_BASE64:
        return ImageOutcome(0, error=MEDIA_ERROR)
    return ImageOutcome(0, content=content)
