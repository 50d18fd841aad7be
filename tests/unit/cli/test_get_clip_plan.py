"""How `stillframe get-clip` cuts a range into GetClip pieces, and halves a piece the service refuses."""

from __future__ import annotations

import argparse
import io
from typing import Any

import pytest
from botocore.exceptions import ClientError

from stillframe.cli.get_clip import Piece, PieceProgress, fetch, plan
from stillframe.cli.timeline import Fragment


def fragment(start_ms: int, size: int = 100, duration_ms: int = 1000) -> Fragment:
    return Fragment(str(start_ms), start_ms, duration_ms, size, start_ms, start_ms)


FRAGMENTS = [fragment(t) for t in range(0, 6000, 1000)]


def test_pieces_start_at_fragment_starts_and_end_1_ms_before_the_next() -> None:
    pieces = plan(FRAGMENTS, 500, 5500, max_fragments=2, max_bytes=10**9)
    assert [(p.start_ms, p.end_ms, len(p.fragments)) for p in pieces] == [
        (500, 1999, 2),
        (2000, 3999, 2),
        (4000, 5500, 2),
    ]


def test_the_byte_budget_and_gaps_shape_the_pieces() -> None:
    fragments = [fragment(0, size=60), fragment(1000, size=60), fragment(9000, size=50)]
    pieces = plan(fragments, 0, 9999, max_fragments=200, max_bytes=100)
    # a piece never ends inside the gap's silence beyond its last fragment
    assert [(p.start_ms, p.end_ms) for p in pieces] == [(0, 999), (1000, 2000), (9000, 9999)]


def test_without_listed_fragments_the_whole_range_is_one_request() -> None:
    assert plan([], 0, 5000, 200, 10**9) == [Piece(0, 5000, ())]


class Refusing:
    """A GetClip that refuses any piece of more than one fragment, as a size limit would."""

    def __init__(self) -> None:
        self.asked: list[tuple[int, int]] = []

    def get_clip(self, **request: Any) -> dict[str, Any]:
        span = request["ClipFragmentSelector"]["TimestampRange"]
        start, end = (round(span[key].timestamp() * 1000) for key in ("StartTimestamp", "EndTimestamp"))
        self.asked.append((start, end))
        if end - start >= 1000:
            error = {"Error": {"Code": "InvalidArgumentException", "Message": "over the limit"}}
            raise ClientError(error, "GetClip")  # type: ignore[arg-type]
        return {"Payload": io.BytesIO(b"mp4")}


def args() -> argparse.Namespace:
    return argparse.Namespace(
        stream="cam", stream_arn=None, selector="PRODUCER_TIMESTAMP", start=0, end=3999, endpoint_url="http://x"
    )


def test_a_refused_piece_is_halved_until_it_is_answered_in_order() -> None:
    service = Refusing()
    pieces = plan(FRAGMENTS[:4], 0, 3999, max_fragments=200, max_bytes=10**9)
    answered = [piece.start_ms for piece, _ in fetch(service, args(), pieces, PieceProgress(io.StringIO(), 1))]
    assert answered == [0, 1000, 2000, 3000]
    assert service.asked[:2] == [(0, 3999), (0, 1999)]


def test_a_single_fragment_refused_is_an_error() -> None:
    from stillframe.cli.errors import UsageError

    pieces = plan([fragment(0, duration_ms=5000)], 0, 4999, 200, 10**9)
    with pytest.raises(UsageError, match="InvalidArgumentException: over the limit"):
        list(fetch(Refusing(), args(), pieces, PieceProgress(io.StringIO(), 1)))
