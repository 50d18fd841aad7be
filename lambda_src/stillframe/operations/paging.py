"""The one paging rule: take ``max_results`` items, and a NextToken for the last cursor when more remain."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

T = TypeVar("T")

Clock = Callable[[], float]
"""Seconds since the epoch (``time.time``); tests pass a fixed one."""


def take_page(
    items: Iterable[tuple[str, T]],
    max_results: int,
    issue: Callable[[str], str],
    *,
    out_of_time: Callable[[], bool] | None = None,
) -> tuple[list[T], str | None]:
    """Up to ``max_results`` items of ``(cursor, item)``, and ``issue(last cursor)`` as NextToken when more exist.

    The iterator is read one item past the page only, so a page never walks the whole listing. With
    ``out_of_time``, a page that has at least one item ends early, with a NextToken, once it says so (the model
    allows a shorter page; paginators follow the token).
    """
    page: list[T] = []
    last_cursor = ""
    for cursor, item in items:
        if len(page) == max_results or (page and out_of_time is not None and out_of_time()):
            return page, issue(last_cursor)
        page.append(item)
        last_cursor = cursor
    return page, None


def now_ms(clock: Clock) -> int:
    """The clock's time in integer epoch milliseconds."""
    return int(clock() * 1000)
