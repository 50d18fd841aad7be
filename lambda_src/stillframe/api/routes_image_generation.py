"""UpdateImageGenerationConfiguration and DescribeImageGenerationConfiguration.

The configuration lives on the stream record (``StreamRecord.ImageGenerationConfiguration``); every update advances
the stream's Version. Light, like the other control-plane routes: no media imports.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Router

from stillframe.catalog.stream_updates import StreamUpdates
from stillframe.catalog.streams import StreamRecord
from stillframe.domain.image_generation_requests import (
    DESTINATION,
    DescribeImageGenerationRequest,
    UpdateImageGenerationRequest,
)
from stillframe.errors import InvalidArgumentError, NoDataRetentionError
from stillframe.wiring import services

router = Router()


@router.post("/updateImageGenerationConfiguration")
def update_image_generation_configuration(request: UpdateImageGenerationRequest) -> dict[str, Any]:
    svc = services()
    config = request.configuration
    if config is not None and config["DestinationConfig"]["DestinationRegion"] != svc.settings.region:
        raise InvalidArgumentError(
            f"{DESTINATION}.DestinationRegion {config['DestinationConfig']['DestinationRegion']!r} "
            f"must be the stream's Region, {svc.settings.region}."
        )

    def change(record: StreamRecord) -> StreamRecord:
        if request.enabled and record.DataRetentionInHours == 0:
            raise NoDataRetentionError(
                f"The stream {record.StreamName} has no data retention (DataRetentionInHours is 0): "
                "images are made from stored media."
            )
        return replace(record, ImageGenerationConfiguration=config)

    StreamUpdates(svc.store, svc.streams).update(request.stream, change)
    return {}


@router.post("/describeImageGenerationConfiguration")
def describe_image_generation_configuration(request: DescribeImageGenerationRequest) -> dict[str, Any]:
    record = services().streams.find(request.stream.stream_name, request.stream.arn)
    config = record.ImageGenerationConfiguration
    return {} if config is None else {"ImageGenerationConfiguration": config}
