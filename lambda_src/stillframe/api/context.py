"""What ``lambda_handler`` hands the routes through the resolver's context (``app.append_context``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from aws_lambda_powertools.event_handler.api_gateway import Router

if TYPE_CHECKING:
    from stillframe.operations.registry import Operations

OPERATIONS = "operations"


def operations(router: Router) -> Operations:
    """The process's operations, appended to the context by ``lambda_handler`` for each request."""
    return cast("Operations", router.context[OPERATIONS])
