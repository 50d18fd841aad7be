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
    # Offsets of the next page's first samples that this fragment would serve too: its decoders may be kept for them.
    follow: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class PagePlan:
    samples: tuple[int, ...]
    work: tuple[FragmentWork, ...]  # in time order of their first sample
    no_media: frozenset[int]  # positions with no covering fragment


def plan_page(
    samples: Sequence[int], candidates: Sequence[FragmentRecord], timeline: str, following: Sequence[int] = ()
) -> PagePlan:
    """Assign each sample to the fragment on screen at its time.

    ``following`` are the next page's samples (a paginated range): those at its start that fall into this page's
    fragments are noted on them (``FragmentWork.follow``).
    """
    by_number: dict[str, FragmentWork] = {}
    no_media: set[int] = set()
    for position, t_ms in enumerate(samples):
        record = covering(candidates, timeline, t_ms)
        if record is None:
            no_media.add(position)
            continue
        work = by_number.setdefault(record.number, FragmentWork(record))
        work.samples.append((position, t_ms - record.start(timeline)))
    for t_ms in following:
        record = covering(candidates, timeline, t_ms)
        if record is None or record.number not in by_number:
            break
        by_number[record.number].follow.append(t_ms - record.start(timeline))
    return PagePlan(tuple(samples), tuple(by_number.values()), frozenset(no_media))
