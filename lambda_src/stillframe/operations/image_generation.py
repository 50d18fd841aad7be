"""UpdateImageGenerationConfiguration and DescribeImageGenerationConfiguration: kept on the stream record."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from stillframe.catalog.stream_record import StreamRecord
from stillframe.catalog.stream_updates import StreamUpdates
from stillframe.catalog.streams import StreamCatalog
from stillframe.domain.image_generation_requests import (
    DESTINATION,
    DescribeImageGenerationRequest,
    UpdateImageGenerationRequest,
)
from stillframe.errors import InvalidArgumentError


def update_image_generation(
    request: UpdateImageGenerationRequest, *, updates: StreamUpdates, region: str
) -> dict[str, Any]:
    """Store (or, without one, delete) the configuration; images go to this Region only, from stored media."""
    config = request.config
    if config is not None and config.destination.region != region:
        raise InvalidArgumentError(
            f"{DESTINATION}.DestinationRegion {config.destination.region!r} must be the stream's Region, {region}."
        )

    def change(record: StreamRecord) -> StreamRecord:
        if request.enabled:
            record.require_retention("images are made from stored media.")
        return replace(record, image_generation=config)

    updates.update(request.stream, change)
    return {}


def describe_image_generation(request: DescribeImageGenerationRequest, *, streams: StreamCatalog) -> dict[str, Any]:
    """``{"ImageGenerationConfiguration": ...}``, or ``{}`` when the stream has none."""
    config = streams.find(request.stream.stream_name, request.stream.arn).image_generation
    return {} if config is None else {"ImageGenerationConfiguration": config.stored()}
