"""PutMedia's request: the ``x-amzn-*`` headers as one model (the body is the media itself).

Names as the Java producer SDK sends them. Validated by the route through ``refusals.parse``, so a broken header
is the same modeled 400 as a broken body member, naming the header.
"""

from __future__ import annotations

import contextlib
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field

from stillframe.domain.requests import StreamARN, StreamName, StreamRef, one_stream
from stillframe.domain.shapes import Timestamp, WireModel, model_validator


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
    timecode_type: Annotated[Literal["RELATIVE", "ABSOLUTE"], BeforeValidator(_upper)] = Field(
        "RELATIVE", alias="x-amzn-fragment-timecode-type"
    )
    producer_start_ms: Annotated[Timestamp, BeforeValidator(_number_if_numeric)] | None = Field(
        None, alias="x-amzn-producer-start-timestamp"
    )

    @property
    def stream(self) -> StreamRef:
        return StreamRef(name=self.stream_name, arn=self.stream_arn)

    def streams_named(self) -> tuple[str, ...]:
        return (self.stream.stream_name,)

    @model_validator(mode="after")
    def _names_one_stream(self) -> PutMediaHeaders:
        one_stream(self.stream)
        return self
