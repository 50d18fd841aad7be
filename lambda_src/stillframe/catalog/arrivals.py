"""Fragments as they arrive, per stream, within this process: so a GetMedia tail wakes when one is stored.

``store_fragments`` announces each stored fragment; a GetMedia reader waits on its stream's condition with a
timeout and looks at the index either way (another process, or a Lambda, stores fragments this one never hears of:
the timeout is then the poll). The registry holds one condition per stream while someone waits on it.
"""

from __future__ import annotations

import threading


class Arrivals:
    """One counter and condition per stream (by its media id), shared by every thread of the process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._conditions: dict[str, threading.Condition] = {}
        self._counts: dict[str, int] = {}

    def count(self, stream: str) -> int:
        """How many arrivals the stream had in this process (compare with a later count to see new ones)."""
        with self._lock:
            return self._counts.get(stream, 0)

    def announce(self, stream: str) -> None:
        """A fragment of ``stream`` is stored: wake its readers."""
        with self._lock:
            self._counts[stream] = self._counts.get(stream, 0) + 1
            condition = self._conditions.get(stream)
        if condition is not None:
            with condition:
                condition.notify_all()

    def wait(self, stream: str, seen: int, timeout_s: float) -> None:
        """Until ``stream`` has more arrivals than ``seen`` or ``timeout_s`` passes."""
        with self._lock:
            condition = self._conditions.setdefault(stream, threading.Condition())
        with condition:
            condition.wait_for(lambda: self.count(stream) > seen, timeout=timeout_s)


ARRIVALS = Arrivals()  # the process's one registry (serve's sessions and readers share it)
