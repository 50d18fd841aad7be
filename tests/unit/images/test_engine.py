"""The page renderer: budgets stop a page early but never empty; failures become per-image errors."""

from __future__ import annotations

import base64
import itertools

import pytest

from stillframe.catalog.keys import FragmentRecord
from stillframe.images.engine import RenderSpec, render_page
from stillframe.images.plan import plan_page
from stillframe.media import chain
from stillframe.media.split import iter_fragments
from tests.support.hostile import plain_clip
from tests.support.synth import read_frame_number


class MemoryIndex:
    """Just the part of FragmentIndex the engine uses: blob bytes by record."""

    def __init__(self, blobs: dict[str, bytes]) -> None:
        self.blobs = blobs

    def blob(self, record: FragmentRecord) -> bytes:
        return self.blobs[record.number]


@pytest.fixture(scope="module")
def fragments(clip_factory):
    """Three 2 s fragments of one 6 s clip, producer start 0, and an index over them."""
    pieces = list(iter_fragments(clip_factory(seconds=6, fps=25, gop=50), target_ms=2000))
    records = [
        FragmentRecord("cam", str(i), p.offset_ms, p.offset_ms, p.duration_ms, len(p.data))
        for i, p in enumerate(pieces)
    ]
    return records, MemoryIndex({r.number: p.data for r, p in zip(records, pieces, strict=True)})


JPEG = RenderSpec("JPEG", 80, None, None)


def frames(outcomes):
    return [read_frame_number(base64.b64decode(o.content)) if o.content else o.error for o in outcomes]


def test_a_page_renders_every_sample_and_decodes_the_least(fragments):
    records, index = fragments
    plan = plan_page([500, 1500, 2500, 5960, 6000], records, "producer")
    outcomes, stats = render_page(plan, index, JPEG, deadline=float("inf"))
    assert frames(outcomes) == [12, 37, 62, 149, "NO_MEDIA"]
    # key frame to sample in each GOP: 13 + 38 frames in the first, 13 in the second, 50 in the third
    assert stats.frames_decoded == 38 + 13 + 50


def test_the_byte_budget_stops_the_page_early_but_not_empty(fragments):
    records, index = fragments
    plan = plan_page([0, 1000, 2000, 3000], records, "producer")
    full, _ = render_page(plan, index, JPEG, deadline=float("inf"))
    budget = full[0].json_size + full[1].json_size + full[2].json_size // 2
    cut, stats = render_page(plan, index, JPEG, deadline=float("inf"), byte_budget=budget)
    assert frames(cut) == [0, 25] and stats.stopped_early == "bytes"
    one, _ = render_page(plan, index, JPEG, deadline=float("inf"), byte_budget=10)
    assert len(one) == 1


def test_a_page_whose_deadline_passed_before_rendering_still_serves_its_first_fragment(fragments):
    records, index = fragments
    plan = plan_page([0, 1000, 2000, 4000], records, "producer")
    # Given a deadline that has already passed (slow lookups used it up)
    outcomes, stats = render_page(plan, index, JPEG, deadline=-1.0, clock=lambda: 0.0)
    # Then the first fragment is still served, within the decoders' own minimum time, and nothing after it
    assert frames(outcomes) == [0, 25] and stats.stopped_early == "time"


@pytest.fixture(scope="module")
def long_gop():
    """One fragment holding one 1,000-frame GOP (1 s at 1000 fps), and an index over it."""
    piece = next(iter_fragments(plain_clip(width=64, height=64, frames=1000, fps=1000), target_ms=2000))
    record = FragmentRecord("cam", "0", 0, 0, piece.duration_ms, len(piece.data))
    return [record], MemoryIndex({"0": piece.data})


def ticking(limit: int):
    """A clock that moves one unit per reading, and a deadline ``limit`` readings away: no wall time involved."""
    readings = itertools.count()
    return (lambda: float(next(readings))), float(limit)


def test_decoding_stops_at_the_deadline_inside_a_long_gop_and_the_page_ends_with_what_it_has(long_gop):
    records, index = long_gop
    # Given a page wanting the GOP's first frame and its 990th, and a deadline about 100 packets away
    clock, deadline = ticking(100)
    outcomes, stats = render_page(plan_page([0, 990], records, "producer"), index, JPEG, deadline=deadline, clock=clock)
    # Then the first still is served, the page ends before the second (a NextToken leads to it), and decoding
    # stopped near the deadline instead of running through 990 frames
    assert len(outcomes) == 1 and outcomes[0].content is not None
    assert stats.stopped_early == "time" and stats.frames_decoded <= 110


def test_a_first_sample_that_cannot_be_decoded_within_the_budget_is_a_media_error(long_gop):
    records, index = long_gop
    clock, deadline = ticking(100)
    outcomes, stats = render_page(plan_page([990], records, "producer"), index, JPEG, deadline=deadline, clock=clock)
    assert [o.error for o in outcomes] == ["MEDIA_ERROR"] and stats.frames_decoded <= 110


def test_an_unreadable_fragment_fails_only_its_samples(fragments):
    records, index = fragments
    broken = MemoryIndex({**index.blobs, "1": b"garbage" * 50})
    plan = plan_page([1000, 3000, 5000], records, "producer")
    outcomes, _ = render_page(plan, broken, JPEG, deadline=float("inf"))
    assert frames(outcomes) == [25, "MEDIA_ERROR", 125]


def test_a_missing_blob_is_a_media_error(fragments):
    records, index = fragments
    missing = MemoryIndex({k: v for k, v in index.blobs.items() if k != "0"})
    outcomes, _ = render_page(plan_page([100, 2100], records, "producer"), missing, JPEG, deadline=float("inf"))
    assert frames(outcomes) == ["MEDIA_ERROR", 52]


def test_a_page_of_b_frames_counts_only_the_pictures_really_decoded(clip_factory):
    # Given one 2 s fragment, one GOP with three B-frames always (b-adapt 0) and a B-pyramid: I0 P4 B2 B1 B3 P8 ...
    clip = clip_factory(seconds=2, fps=25, gop=50, bframes=3, encoder_params="b-pyramid=normal:b-adapt=0")
    (piece,) = iter_fragments(clip, target_ms=2000)
    records = [FragmentRecord("cam", "0", 0, 0, piece.duration_ms, len(piece.data))]
    plan = plan_page([1000], records, "producer")

    # When frame 25 is served
    outcomes, stats = render_page(plan, MemoryIndex({"0": piece.data}), JPEG, deadline=float("inf"))

    # Then it is frame 25, and the page decoded I0, P4..P28, B2..B26 and B25 (16), not the 26 from the key frame
    assert frames(outcomes) == [25]
    assert stats.frames_decoded == 16


def test_the_pages_of_a_range_continue_the_decoder_the_previous_page_kept(clip_factory):
    # Given one 2 s B-frame fragment paged at 200 ms, five samples a page, and each page's images decoded afresh
    clip = clip_factory(seconds=2, fps=25, gop=50, bframes=3, encoder_params="b-pyramid=normal")
    (piece,) = iter_fragments(clip, target_ms=2000)
    records = [FragmentRecord("cam", "0", 0, 0, piece.duration_ms, len(piece.data))]
    index = MemoryIndex({"0": piece.data})
    pages = [list(range(start, start + 1000, 200)) for start in (0, 1000)]
    fresh = [render_page(plan_page(page, records, "producer"), index, JPEG, deadline=float("inf")) for page in pages]

    # When the first page names the second page's samples, and the second page follows
    first = render_page(plan_page(pages[0], records, "producer", pages[1]), index, JPEG, deadline=float("inf"))
    second = render_page(plan_page(pages[1], records, "producer"), index, JPEG, deadline=float("inf"))

    # Then the images are byte for byte the fresh ones, and the second page decodes fewer frames than afresh
    assert [o.content for o in first[0] + second[0]] == [o.content for o in fresh[0][0] + fresh[1][0]]
    assert second[1].frames_decoded < fresh[1][1].frames_decoded
    assert first[1].frames_decoded + second[1].frames_decoded < fresh[0][1].frames_decoded + fresh[1][1].frames_decoded
    assert len(chain.PARKED) == 0  # the last page named no next one


def test_demuxing_a_fragment_of_many_frames_also_stops_at_the_deadline(long_gop):
    records, index = long_gop
    # Given a deadline a few clock readings away: demuxing the 1,000 packets reaches it before any decoding
    clock, deadline = ticking(5)
    outcomes, stats = render_page(plan_page([0], records, "producer"), index, JPEG, deadline=deadline, clock=clock)
    assert [o.error for o in outcomes] == ["MEDIA_ERROR"] and stats.frames_decoded == 0
