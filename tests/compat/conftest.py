"""Fixtures shared by the tests against a real `stillframe serve`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.producer import ProducerStream, sdk_stream
from tests.support.serve import running_serve
from tests.support.synth import make_clip

START_MS = 1_795_600_800_000  # 2026-11-26T10:00:00Z


@pytest.fixture(scope="module")
def media() -> ProducerStream:
    """6 s at 25 fps, a key frame every second: six 1 s clusters as the SDK sends them."""
    return sdk_stream(make_clip(seconds=6, fps=25, gop=25), start_ms=START_MS)


@pytest.fixture
def fresh_server(tmp_path: Path) -> Iterator[str]:
    """A serve over a fresh data directory, one per test (the session-wide `server` is shared): its base URL."""
    with running_serve("--data-dir", str(tmp_path / "data")) as (url, _):
        yield url
