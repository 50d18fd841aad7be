"""PutMedia's request: the ``x-amzn-*`` headers as one model (the body is the media itself).

Names as the Java producer SDK sends them. Validated by the route through ``refusals.parse``, so a broken header
is the same modeled 400 as a broken body member, naming the header.
"""

from __future__ import annotations

import contextlib
from typing import Annotated

from pydantic import BeforeValidator, Field, StringConstraints

from stillframe.domain.clocks import TimecodeType
from stillframe.domain.requests import StreamARN, StreamName, StreamRef, one_stream
from stillframe.domain.shapes import Timestamp, WireModel, model_validator

# Stillframe's own: what the put-media client states about a chunk it cut from a file (how a player shows it, and
# which frames an edit list leaves out), since the server never reads Stillframe's tags from an upload.
DISPLAY = "x-stillframe-display"  # "rotate-cw=90;mirror=0;sar=1:1" (media.display.from_statement)
PRESENTATION_WINDOW = "x-stillframe-presentation-window"  # "<from ms>-<until ms>" from the chunk's earliest frame


def _upper(value: object) -> object:
    return value.upper() if isinstance(value, str) else value


def _number_if_numeric(value: object) -> object:
    """Header values are text; epoch seconds arrive as ``"1795600800.000"``, anything else may be ISO-8601."""
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            return float(value)
    return value


class PutMediaHeaders(WireModel):
    """A valid PutMedia header set; the timecode type defaults to RELATIVE, the producer start to receive time."""

    stream_name: StreamName | None = Field(None, alias="x-amzn-stream-name")
    stream_arn: StreamARN | None = Field(None, alias="x-amzn-stream-arn")
    timecode_type: Annotated[TimecodeType, BeforeValidator(_upper)] = Field(
        TimecodeType.RELATIVE, alias="x-amzn-fragment-timecode-type"
    )
    producer_start_ms: Annotated[Timestamp, BeforeValidator(_number_if_numeric)] | None = Field(
        None, alias="x-amzn-producer-start-timestamp"
    )

    display: Annotated[str, StringConstraints(max_length=64, pattern=r"^[a-z0-9=:; -]*$")] | None = Field(
        None, alias="x-stillframe-display"
    )
    presentation_window: Annotated[str, StringConstraints(pattern=r"^\d{1,9}-\d{1,9}$")] | None = Field(
        None, alias="x-stillframe-presentation-window"
    )

    @property
    def window(self) -> tuple[int, int] | None:
        """The stated presentation window as (from, until) ms, or None."""
        if self.presentation_window is None:
            return None
        start, _, end = self.presentation_window.partition("-")
        return int(start), int(end)

    @property
    def stream(self) -> StreamRef:
        return StreamRef(name=self.stream_name, arn=self.stream_arn)

    def streams_named(self) -> tuple[str, ...]:
        return (self.stream.stream_name,)

    @model_validator(mode="after")
    def _names_one_stream(self) -> PutMediaHeaders:
        one_stream(self.stream)
        return self
