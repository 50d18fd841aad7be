"""Turn a planned page into images: fetch fragments concurrently, decode the least, render, budget.

Fragments, and the GOPs inside each, are decoded in parallel (PyAV and the encoders release the GIL)
but consumed in time order, so the page can stop early, with a NextToken, before the byte or time
budget runs out. Each GOP's wanted frames are rendered as they leave its decoder.
"""

from __future__ import annotations

import base64
import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from stillframe.catalog.fragments import FragmentIndex
from stillframe.errors import MediaError
from stillframe.images.plan import MEDIA_ERROR, NO_MEDIA, FragmentWork, PagePlan

if TYPE_CHECKING:  # media modules load on the first page, not when the handler module is imported
    from av.video.frame import VideoFrame

    from stillframe.media.fragment import DemuxedFragment

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


_GopResult = dict[int, "ImageOutcome"]  # frame index -> its rendered image (or error)


@dataclass
class _FragmentJob:
    """One fragment's share of a page once demuxed: each sample's frame, and one future per GOP to decode."""

    errors: dict[int, ImageOutcome]  # page position -> error known without decoding
    choice: dict[int, int]  # page position -> frame index
    gops: list[Future[_GopResult]]
    fragment: DemuxedFragment | None = None


_cpu_pool: ThreadPoolExecutor | None = None
_io_pool: ThreadPoolExecutor | None = None


def _pools() -> tuple[ThreadPoolExecutor, ThreadPoolExecutor]:
    """Process-wide pools, created on first use (warm invocations reuse them).

    The CPU pool has one thread per core this process may run on (not per core of the machine: under
    ``taskset`` or a cgroup CPU set, extra decoding threads would only time-slice one core).
    """
    global _cpu_pool, _io_pool
    if _cpu_pool is None or _io_pool is None:
        _cpu_pool = ThreadPoolExecutor(max_workers=usable_cpus(), thread_name_prefix="decode")
        _io_pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="fetch")
    return _cpu_pool, _io_pool


def usable_cpus() -> int:
    """CPUs this process may run on."""
    affinity = getattr(os, "sched_getaffinity", None)
    return max(1, len(affinity(0)) if affinity else os.cpu_count() or 1)


def render_page(
    plan: PagePlan,
    index: FragmentIndex,
    spec: RenderSpec,
    *,
    deadline: float,
    byte_budget: int = RESPONSE_BYTE_BUDGET,
    clock: Callable[[], float] = time.monotonic,
) -> tuple[list[ImageOutcome], PageStats]:
    """Images for the page's samples, in order; possibly fewer (at least one) when a budget runs out.

    Fetch + demux run per fragment on the I/O pool, which then queues one decode + render task per GOP on the
    CPU pool: fragments and the GOPs inside one big fragment all spread over the cores.
    """
    cpu, io = _pools()
    stop = threading.Event()
    stats = PageStats(fragments=len(plan.work))
    jobs = [io.submit(_prepare, work, index, spec, cpu, stop) for work in plan.work]
    job_of = {pos: i for i, work in enumerate(plan.work) for pos, _ in work.samples}
    done: dict[int, dict[int, ImageOutcome]] = {}
    outcomes: list[ImageOutcome] = []
    used = 0
    try:
        for position, t_ms in enumerate(plan.samples):
            if position in plan.no_media:
                outcome = ImageOutcome(t_ms, error=NO_MEDIA)
            else:
                job = job_of[position]
                if job not in done:
                    if outcomes and clock() > deadline:
                        stats.stopped_early = "time"
                        break
                    done[job], decoded = _collect(jobs[job].result())
                    stats.frames_decoded += decoded
                outcome = done[job][position]
                outcome.timestamp_ms = t_ms
            if outcomes and used + outcome.json_size > byte_budget:
                stats.stopped_early = "bytes"
                break
            used += outcome.json_size
            outcomes.append(outcome)
    finally:
        _cancel(jobs, stop)
    stats.images = len(outcomes)
    return outcomes, stats


def _cancel(jobs: list[Future[_FragmentJob]], stop: threading.Event) -> None:
    """Drop the work a page no longer needs (after an early stop): queued tasks never start."""
    stop.set()
    for job in jobs:
        if not job.cancel() and job.done() and job.exception() is None:
            for gop in job.result().gops:
                gop.cancel()


def _collect(job: _FragmentJob) -> tuple[dict[int, ImageOutcome], int]:
    """Wait for a fragment's GOPs; images keyed by page position, and the frames decoded."""
    rendered: _GopResult = {}
    for gop in job.gops:
        rendered.update(gop.result())
    results = dict(job.errors)
    for pos, index in job.choice.items():
        image = rendered.get(index)
        results[pos] = ImageOutcome(0, content=image.content, error=image.error) if image else _error()
    return results, job.fragment.frames_decoded if job.fragment else 0


def _prepare(
    work: FragmentWork, index: FragmentIndex, spec: RenderSpec, cpu: ThreadPoolExecutor, stop: threading.Event
) -> _FragmentJob:
    """Fetch and demux one fragment, choose each sample's frame, queue one task per GOP that holds a choice."""
    from stillframe.domain.selection import frame_at
    from stillframe.media.fragment import open_fragment

    try:
        fragment = open_fragment(index.blob(work.record))
    except Exception as exc:  # a missing or unreadable blob is a MEDIA_ERROR for its samples, never a 500
        logger.warning("fragment unreadable", extra={"fragment": work.record.number, "error": str(exc)})
        return _FragmentJob({pos: _error() for pos, _ in work.samples}, {}, [])
    offsets = [frame.offset_ms for frame in fragment.frames]
    errors: dict[int, ImageOutcome] = {}
    choice: dict[int, int] = {}
    by_gop: dict[int, set[int]] = {}
    for pos, offset in work.samples:
        frame = frame_at(offsets, offset)
        gop = fragment.gop_of(frame) if frame is not None else None
        if frame is None or gop is None:  # before the first frame, or before the first key frame
            errors[pos] = _error()
            continue
        choice[pos] = frame
        by_gop.setdefault(gop, set()).add(frame)
    gops = [] if stop.is_set() else [
        cpu.submit(_gop_images, fragment, gop, frames, spec, stop, work.record.number)
        for gop, frames in sorted(by_gop.items())
    ]
    return _FragmentJob(errors, choice, gops, fragment)


def _gop_images(
    fragment: DemuxedFragment, gop: int, frames: set[int], spec: RenderSpec, stop: threading.Event, number: str
) -> _GopResult:
    """Decode one GOP up to its last wanted frame, rendering each wanted frame as it comes out."""
    if stop.is_set():
        return {}
    images: _GopResult = {}
    try:
        for frame_index, frame in fragment.iter_gop(gop, frames):
            images[frame_index] = _render(frame, fragment.width, fragment.height, spec)
    except MediaError as exc:  # a GOP that cannot be decoded fails its own samples only
        logger.warning("fragment undecodable", extra={"fragment": number, "gop": gop, "error": str(exc)})
        return {frame_index: _error() for frame_index in frames}
    return images


def _error() -> ImageOutcome:
    return ImageOutcome(0, error=MEDIA_ERROR)


def _render(frame: VideoFrame, src_width: int, src_height: int, spec: RenderSpec) -> ImageOutcome:
    from stillframe.media.render import output_size, render

    try:
        width, height = output_size(src_width, src_height, spec.width, spec.height)
        data = render(frame, width=width, height=height, image_format=spec.image_format, quality=spec.quality)
    except Exception as exc:  # an encoder failure is one MEDIA_ERROR, not a failed page
        logger.warning("render failed", extra={"error": str(exc)})
        return _error()
    content = base64.b64encode(data).decode("ascii")
    if len(content) > MAX_IMAGE_BASE64:
        return _error()
    return ImageOutcome(0, content=content)
