"""Upload progress: a bar redrawn in place on a terminal, plain lines elsewhere."""

from __future__ import annotations

import io

from stillframe.cli.progress import BarProgress, PlainProgress, human_bytes, progress_for
from stillframe.cli.tally import UploadTally
from stillframe.uploader import ChunkResult

PERSISTED = {"EventType": "PERSISTED", "FragmentTimecode": 0, "FragmentNumber": "1"}


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def feed(progress: BarProgress | PlainProgress, results: list[ChunkResult]) -> None:
    tally = UploadTally(0)
    for result in results:
        tally.add(result)
        progress.chunk(result, tally)
    progress.finish()


def results() -> list[ChunkResult]:
    return [
        ChunkResult(0, 0, 5000, 3 * 1024 * 1024, (PERSISTED, PERSISTED), 1),
        ChunkResult(1, 5000, 5000, 1024 * 1024, (PERSISTED,), 3),
    ]


def test_terminal_gets_a_bar_redrawn_in_place() -> None:
    # Given a terminal and a 20 s video
    screen = Terminal()
    progress = progress_for(screen, 20_000)

    # When two chunks covering 10 s are sent
    feed(progress, results())

    # Then one line was redrawn with carriage returns, ending at 50% with totals, then a newline
    text = screen.getvalue()
    assert isinstance(progress, BarProgress)
    assert text.count("\r") == 2 and text.endswith("\n") and text.count("\n") == 1
    last = text.rsplit("\r", 1)[1]
    assert "50.0%" in last and "10.0/20.0 s" in last and "4.0 MiB" in last and "chunks 2" in last


def test_unknown_length_shows_seconds_without_a_percentage() -> None:
    screen = Terminal()
    feed(progress_for(screen, None), results())
    last = screen.getvalue().rsplit("\r", 1)[1]
    assert "%" not in last and "10.0 s" in last


def test_pipe_gets_one_plain_line_per_chunk() -> None:
    # Given stderr redirected to a file or pipe
    pipe = io.StringIO()
    progress = progress_for(pipe, 20_000)

    # When two chunks are sent
    feed(progress, results())

    # Then there is one complete line per chunk, with retries mentioned, and no control characters
    assert isinstance(progress, PlainProgress)
    assert pipe.getvalue().splitlines() == [
        "chunk 0: 0.000-5.000 s, 3.0 MiB, 2 fragments persisted (25%)",
        "chunk 1: 5.000-10.000 s, 1.0 MiB, 1 fragments persisted (after 3 attempts) (50%)",
    ]


def test_human_bytes() -> None:
    assert [human_bytes(n) for n in (532, 12_595, 4 * 1024**2)] == ["532 B", "12.3 KiB", "4.0 MiB"]
