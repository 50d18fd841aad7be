"""Turn a planned page into images: fetch fragments concurrently, decode the least, render, budget.

Fragments, and the GOPs inside each, are decoded in parallel (PyAV and the encoders release the GIL)
but consumed in time order, so the page can stop early, with a NextToken, before the byte or time
budget runs out. Each GOP's wanted frames are rendered as they leave its decoder.

The time budget is also checked inside every decoder, before each packet: a sample deep in a long GOP stops
decoding at the page's deadline instead of holding a worker for as long as the GOP takes. Its sample then ends
the page (a NextToken leads to it) when the page already has an image, or is MEDIA_ERROR when it is the page's
first (it alone took the whole budget: asked again it would only do the same). A page that ends, for whatever
reason, also stops its decoders still running, so workers go to other requests.
"""

from __future__ import annotations

import base64
import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from enum import StrEnum
from functools import partial
from typing import TYPE_CHECKING, TypeVar

from stillframe.catalog.fragments import FragmentIndex
from stillframe.errors import MediaError
from stillframe.images.plan import FragmentWork, PagePlan
from stillframe.resources import decode_workers, fetch_pool
from stillframe.resources.workers import Continue, Workers

if TYPE_CHECKING:  # media modules load on the first page, not when the handler module is imported
    from av.video.frame import VideoFrame

    from stillframe.media.chain import Step
    from stillframe.media.display import Display
    from stillframe.media.fragment import DemuxedFragment

logger = logging.getLogger(__name__)
T = TypeVar("T")

MAX_IMAGE_BASE64 = 6_291_456
RESPONSE_BYTE_BUDGET = 6_000_000
ENTRY_OVERHEAD = 64  # JSON punctuation, field names and the timestamp of one Image entry


@dataclass(frozen=True)
class RenderSpec:
    image_format: str
    quality: int
    width: int | None
    height: int | None


class ImageError(StrEnum):
    """Why a sample has no ImageContent: GetImages' ``Image.Error`` values."""

    NO_MEDIA = "NO_MEDIA"  # no fragment is on screen at the sample's time
    MEDIA_ERROR = "MEDIA_ERROR"  # the fragment could not be read, decoded or rendered within the limits


@dataclass
class ImageOutcome:
    timestamp_ms: int
    content: str | None = None  # base64
    error: ImageError | None = None
    timed_out: bool = False  # a MEDIA_ERROR because decoding reached the deadline: may end the page instead

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


RENDER, DECODE = 0, 1  # task priorities: a decoded frame is rendered (and released) before more decoding starts
# A GOP decoding for longer than this gives its worker up when other tasks wait, and queues again behind them: a
# sample deep in a long GOP takes its turns instead of holding a core until it is done (or its deadline passes).
SLICE_S = 0.05
# Decoders get at least this long from the start of rendering, even when the lookups before it used up the page's
# budget: a page always holds one image, and a slow store must not turn intact media into MEDIA_ERROR.
MIN_DECODE_S = 1.0
_page_numbers = itertools.count()  # pages in arrival order: a page's tasks run before a later page's
_Renders = dict[int, "Future[ImageOutcome]"]  # frame index -> its image, being rendered


@dataclass(eq=False)
class _Page:
    """What the tasks of one page share: their place in line (``turn``), the signal that the page needs no more work,
    and the deadline its decoders check."""

    number: int
    stop: threading.Event
    deadline: float = float("inf")
    clock: Callable[[], float] = time.monotonic
    turn: int = -1  # the page's place among decode tasks: its number, then a later one each time it gives way

    def __post_init__(self) -> None:
        self.turn = self.number

    def interrupted(self) -> bool:
        """Whether a decoder working for this page should stop: the page ended, or its deadline passed."""
        return self.stop.is_set() or self.clock() > self.deadline


@dataclass
class _FragmentJob:
    """One fragment's share of a page once demuxed: each sample's frame, and one future per GOP to decode."""

    errors: dict[int, ImageOutcome]  # page position -> error known without decoding
    choice: dict[int, int]  # page position -> frame index
    gops: list[Future[_Renders]]
    fragment: DemuxedFragment | None = None


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

    Fetch + demux run per fragment on the I/O pool, which then queues one decode task per GOP on the CPU
    workers; each decoded wanted frame becomes a render task. Fragments, the GOPs inside one big fragment and
    the encoding all spread over the cores.
    """
    cpu, io = decode_workers(), fetch_pool()  # the process's (stillframe.resources)
    page = _Page(next(_page_numbers), threading.Event(), max(deadline, clock() + MIN_DECODE_S), clock)
    stats = PageStats(fragments=len(plan.work))
    jobs = [io.submit(_prepare, work, index, spec, cpu, page) for work in plan.work]
    job_of = {pos: i for i, work in enumerate(plan.work) for pos, _ in work.samples}
    done: dict[int, dict[int, ImageOutcome]] = {}
    outcomes: list[ImageOutcome] = []
    used = 0
    try:
        for position, t_ms in enumerate(plan.samples):
            if position in plan.no_media:
                outcome = ImageOutcome(t_ms, error=ImageError.NO_MEDIA)
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
                if outcome.timed_out and outcomes:  # the next page starts at this sample, with a fresh budget
                    stats.stopped_early = "time"
                    break
            if outcomes and used + outcome.json_size > byte_budget:
                stats.stopped_early = "bytes"
                break
            used += outcome.json_size
            outcomes.append(outcome)
    finally:
        _cancel(jobs, page)
    stats.images = len(outcomes)
    return outcomes, stats


def _cancel(jobs: list[Future[_FragmentJob]], page: _Page) -> None:
    """Drop the work a page no longer needs (after an early stop): queued tasks return without working."""
    page.stop.set()
    for job in jobs:
        job.cancel()


def _collect(job: _FragmentJob) -> tuple[dict[int, ImageOutcome], int]:
    """Wait for a fragment's images; keyed by page position, with the frames decoded."""
    renders: _Renders = {}
    for gop in job.gops:
        renders.update(gop.result())
    results = dict(job.errors)
    for pos, index in job.choice.items():
        image = renders[index].result() if index in renders else _error()
        results[pos] = ImageOutcome(0, content=image.content, error=image.error, timed_out=image.timed_out)
    return results, job.fragment.frames_decoded if job.fragment else 0


def _prepare(work: FragmentWork, index: FragmentIndex, spec: RenderSpec, cpu: Workers, page: _Page) -> _FragmentJob:
    """Fetch and demux one fragment, choose each sample's frame, queue one task per GOP that holds a choice."""
    try:
        data = index.blob(work.record)
    except Exception as exc:  # a missing or unreadable blob is a MEDIA_ERROR for its samples, never a 500
        return _unreadable(work, exc)
    # Imported after the fetch: in a cold process the first fetches overlap the media libraries' import.
    from stillframe.media.chain import DecodeInterrupted
    from stillframe.media.fragment import open_fragment

    try:
        fragment = open_fragment(data, key=work.record.blob_key, interrupted=page.interrupted)
    except DecodeInterrupted:
        return _FragmentJob({pos: _timed_out() for pos, _ in work.samples}, {}, [])
    except Exception as exc:
        return _unreadable(work, exc)
    errors: dict[int, ImageOutcome] = {}
    choice: dict[int, int] = {}
    by_gop: dict[int, dict[int, int]] = {}  # GOP -> frame index -> first page position showing it
    for pos, offset in work.samples:
        frame = fragment.frame_index_at(offset)
        gop = fragment.gop_of(frame) if frame is not None else None
        if frame is None or gop is None:  # before the first frame, or before the first key frame
            errors[pos] = _error()
            continue
        choice[pos] = frame
        by_gop.setdefault(gop, {}).setdefault(frame, pos)
    if page.stop.is_set():
        return _FragmentJob(errors, choice, [], fragment)
    follow = _followed(fragment, work.follow, by_gop)
    gops = [
        cpu.submit_sliced(
            (DECODE, page.number, min(frames.values())),
            partial(_decode_gop, fragment, gop, frames, follow.get(gop, set()), spec, cpu, page, page.number),
            owner=page,
        )
        for gop, frames in sorted(by_gop.items())
    ]
    return _FragmentJob(errors, choice, gops, fragment)


def _followed(fragment: DemuxedFragment, offsets: list[int], by_gop: dict[int, dict[int, int]]) -> dict[int, set[int]]:
    """The next page's frames in the GOPs this page decodes, by GOP (their decoders are kept for it)."""
    follow: dict[int, set[int]] = {}
    for offset in offsets:
        frame = fragment.frame_index_at(offset)
        gop = fragment.gop_of(frame) if frame is not None else None
        if gop in by_gop and frame is not None:
            follow.setdefault(gop, set()).add(frame)
    return follow


def _unreadable(work: FragmentWork, exc: Exception) -> _FragmentJob:
    logger.warning("fragment unreadable", extra={"fragment": work.record.number, "error": str(exc)})
    return _FragmentJob({pos: _error() for pos, _ in work.samples}, {}, [])


def _decode_gop(
    fragment: DemuxedFragment,
    gop: int,
    frames: dict[int, int],
    follow: set[int],
    spec: RenderSpec,
    cpu: Workers,
    page: _Page,
    turn: int,
) -> _Renders | Continue:
    """Decode one GOP up to its last wanted frame, queueing a render for each wanted frame as it comes out.

    ``follow``: the next page's frames in this GOP, for which the decoder is kept (``media.chain``). Runs in
    slices (``SLICE_S``) while other requests' tasks wait. Queued at ``turn``: when its page has since given way,
    it goes back in line at the page's new turn before starting a decoder, so a page that yields never holds more
    live decoders than it had running.
    """
    if page.stop.is_set():
        return {}
    if turn != page.turn:
        later = partial(_decode_gop, fragment, gop, frames, follow, spec, cpu, page, page.turn)
        return Continue((DECODE, page.turn, min(frames.values())), later)
    steps = fragment.steps(gop, set(frames), follow, page.interrupted)
    return _decode_slice(_GopRun(fragment, gop, frames, steps), spec, cpu, page)


@dataclass
class _GopRun:
    """A GOP being decoded across slices: its decoding steps, and the renders queued so far."""

    fragment: DemuxedFragment
    gop: int
    frames: dict[int, int]  # frame index -> first page position showing it
    steps: Iterator[Step]
    renders: _Renders = field(default_factory=dict)


def _decode_slice(run: _GopRun, spec: RenderSpec, cpu: Workers, page: _Page) -> _Renders | Continue:
    """Go on decoding ``run`` until it is done, or its slice is over while other tasks wait (then ``Continue``)."""
    from stillframe.media.chain import DecodeInterrupted

    fragment, started = run.fragment, time.monotonic()
    failed: Future[ImageOutcome] = Future()
    try:
        for step in run.steps:
            if step is None:
                if time.monotonic() - started > SLICE_S and cpu.waiting_besides(page):
                    page.turn = next(_page_numbers)  # behind what waits now, ahead of pages that come later
                    later = partial(_decode_slice, run, spec, cpu, page)
                    return Continue((DECODE, page.turn, min(run.frames.values())), later)
                continue
            index, frame = step
            task = partial(_render, frame, fragment.width, fragment.height, fragment.display, spec, page.stop)
            run.renders[index] = cpu.submit((RENDER, page.number, run.frames[index]), task, owner=page)
    except MediaError as exc:  # a GOP that cannot be decoded fails its own samples only
        logger.warning("fragment undecodable", extra={"gop": run.gop, "error": str(exc)})
        failed.set_result(_error())
    except DecodeInterrupted:
        logger.info("decoding stopped", extra={"gop": run.gop, "frames_decoded": fragment.frames_decoded})
        failed.set_result(_timed_out())
    if failed.done():
        run.renders.update({index: failed for index in run.frames if index not in run.renders})
    return run.renders


def _error() -> ImageOutcome:
    return ImageOutcome(0, error=ImageError.MEDIA_ERROR)


def _timed_out() -> ImageOutcome:
    return ImageOutcome(0, error=ImageError.MEDIA_ERROR, timed_out=True)


def _render(
    frame: VideoFrame, src_width: int, src_height: int, shown: Display, spec: RenderSpec, stop: threading.Event
) -> ImageOutcome:
    from stillframe.media.render import output_size, render

    if stop.is_set():
        return _error()
    try:
        width, height = output_size(*shown.size(src_width, src_height), spec.width, spec.height)
        data = render(
            frame, width=width, height=height, image_format=spec.image_format, quality=spec.quality, display=shown
        )
    except Exception as exc:  # an encoder failure is one MEDIA_ERROR, not a failed page
        logger.warning("render failed", extra={"error": str(exc)})
        return _error()
    content = base64.b64encode(data).decode("ascii")
    if len(content) > MAX_IMAGE_BASE64:
        return _error()
    return ImageOutcome(0, content=content)
