"""UpdateImageGenerationConfiguration and DescribeImageGenerationConfiguration.

The configuration lives on the stream record (``StreamRecord.image_generation``); every update advances
the stream's Version. Light, like the other control-plane routes: no media imports.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Router

from stillframe.api.context import operations
from stillframe.domain.image_generation_requests import DescribeImageGenerationRequest, UpdateImageGenerationRequest

router = Router()


@router.post("/updateImageGenerationConfiguration")
def update_image_generation_configuration(request: UpdateImageGenerationRequest) -> dict[str, Any]:
    return operations(router).update_image_generation(request)


@router.post("/describeImageGenerationConfiguration")
def describe_image_generation_configuration(request: DescribeImageGenerationRequest) -> dict[str, Any]:
    return operations(router).describe_image_generation(request)
