"""Freed picture-sized buffers are reused by the process instead of coming back from the kernel as new pages."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from stillframe.resources import memory

# Ten 3 MiB blocks (a 1080p decoder's pictures) allocated and freed, round after round, in a fresh process.
_ROUNDS = """
import resource, sys
from stillframe.resources.memory import keep_freed_buffers
print(keep_freed_buffers())
def picture_round():
    blocks = [bytearray(3 << 20) for _ in range(10)]
    del blocks
picture_round()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(5):
    picture_round()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


@pytest.mark.skipif(memory._mallopt() is None, reason="the C library is not glibc")
def test_freed_picture_buffers_are_reused_without_page_faults() -> None:
    # Given a fresh process that keeps freed buffers; When it allocates and frees picture-sized blocks repeatedly
    source = str(Path(memory.__file__).resolve().parents[2])
    done = subprocess.run(
        [sys.executable, "-c", _ROUNDS], capture_output=True, text=True, check=True, env={"PYTHONPATH": source}
    )
    applied, faults = done.stdout.split()

    # Then the later rounds reuse the memory: glibc's defaults fault in every page again (~38,000 here)
    assert applied == "True"
    assert int(faults) < 2_000


def test_without_glibc_nothing_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory, "_done", False)
    monkeypatch.setattr(memory, "_mallopt", lambda: None)
    assert memory.keep_freed_buffers() is False
