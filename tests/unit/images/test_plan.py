"""Which fragment serves each sample: coverage, gaps, overlaps (index records only, no media)."""

from __future__ import annotations

from stillframe.catalog.keys import FragmentRecord
from stillframe.domain.selection import covering
from stillframe.images.plan import plan_page


def fragment(number: str, producer_ms: int, duration_ms: int, server_ms: int | None = None) -> FragmentRecord:
    return FragmentRecord(
        "cam", number, server_ms if server_ms is not None else producer_ms + 500, producer_ms, duration_ms, 1000
    )


def test_a_fragment_covers_from_its_first_frame_to_the_end_of_its_last():
    frag = fragment("1", 10_000, 2_000)
    assert covering([frag], "producer", 9_999) is None
    assert covering([frag], "producer", 10_000) is frag
    assert covering([frag], "producer", 11_999) is frag
    assert covering([frag], "producer", 12_000) is None


def test_overlap_the_later_start_wins_and_ties_go_to_the_later_number():
    early, late = fragment("100", 0, 6_000), fragment("101", 3_000, 2_000)
    assert covering([early, late], "producer", 2_999) is early
    assert covering([early, late], "producer", 3_000) is late
    assert covering([late, early], "producer", 5_500) is early
    twin_a, twin_b = fragment("99", 0, 2_000), fragment("100", 0, 2_000)
    assert covering([twin_b, twin_a], "producer", 1_000) is twin_b


def test_server_timeline_uses_server_starts():
    frag = fragment("1", 0, 2_000, server_ms=50_000)
    assert covering([frag], "server", 1_000) is None
    assert covering([frag], "server", 51_000) is frag


def test_plan_groups_samples_by_fragment_and_marks_gaps():
    a, b = fragment("1", 0, 2_000), fragment("2", 5_000, 2_000)
    plan = plan_page([0, 1_500, 3_000, 5_200, 6_999, 7_000], [a, b], "producer")
    assert [(w.record.number, w.samples) for w in plan.work] == [
        ("1", [(0, 0), (1, 1_500)]),
        ("2", [(3, 200), (4, 1_999)]),
    ]
    assert plan.no_media == {2, 5}


def test_the_next_pages_first_samples_are_noted_on_this_pages_fragments():
    # Given a page ending 1.6 s into a 2 s fragment, and a next page going on at 200 ms into the next fragment
    a, b = fragment("1", 0, 2_000), fragment("2", 2_000, 2_000)
    plan = plan_page([1_200, 1_400, 1_600], [a, b], "producer", following=[1_800, 2_000, 2_200])

    # Then the fragment it decodes knows the next page's samples it also serves; the next fragment is not this page's
    (work,) = plan.work
    assert work.record is a and work.follow == [1_800]
