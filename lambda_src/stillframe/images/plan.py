"""Plan a page: which fragment and frame each sample needs (index lookups only, no media bytes)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from stillframe.catalog.keys import FragmentRecord
from stillframe.domain.selection import covering


@dataclass
class FragmentWork:
    """The samples one fragment serves, as offsets from its first presented frame."""

    record: FragmentRecord
    samples: list[tuple[int, int]] = field(default_factory=list)  # (sample position in page, offset_ms)


@dataclass(frozen=True)
class PagePlan:
    samples: tuple[int, ...]
    work: tuple[FragmentWork, ...]  # in time order of their first sample
    no_media: frozenset[int]  # positions with no covering fragment


def plan_page(samples: Sequence[int], candidates: Sequence[FragmentRecord], timeline: str) -> PagePlan:
    """Assign each sample to the fragment on screen at its time."""
    by_number: dict[str, FragmentWork] = {}
    no_media: set[int] = set()
    for position, t_ms in enumerate(samples):
        record = covering(candidates, timeline, t_ms)
        if record is None:
            no_media.add(position)
            continue
        work = by_number.setdefault(record.number, FragmentWork(record))
        work.samples.append((position, t_ms - record.start(timeline)))
    return PagePlan(tuple(samples), tuple(by_number.values()), frozenset(no_media))
