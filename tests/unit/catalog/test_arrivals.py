"""A stream's arrivals wake the readers waiting on it at once, and only them."""

from __future__ import annotations

import threading
import time

from stillframe.catalog.arrivals import Arrivals


def test_an_announced_fragment_wakes_its_streams_readers_at_once() -> None:
    arrivals = Arrivals()
    seen = arrivals.count("cam/1")
    woke: list[float] = []
    reader = threading.Thread(target=lambda: (arrivals.wait("cam/1", seen, 5.0), woke.append(time.monotonic())))
    reader.start()
    time.sleep(0.1)
    arrivals.announce("other/1")  # another stream's fragment does not wake it
    time.sleep(0.1)
    assert not woke
    announced = time.monotonic()
    arrivals.announce("cam/1")
    reader.join(timeout=5)
    assert woke and woke[0] - announced < 0.5


def test_a_reader_that_missed_the_announcement_does_not_wait() -> None:
    arrivals = Arrivals()
    seen = arrivals.count("cam/1")
    arrivals.announce("cam/1")  # stored between the reader's look at the index and its wait
    started = time.monotonic()
    arrivals.wait("cam/1", seen, 5.0)
    assert time.monotonic() - started < 0.5
