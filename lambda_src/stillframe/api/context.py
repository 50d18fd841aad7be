"""What ``lambda_handler`` hands the routes through the resolver's context (``app.append_context``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, cast

from aws_lambda_powertools.event_handler.api_gateway import BaseRouter, Router

from stillframe.access.policy import visible

if TYPE_CHECKING:
    from stillframe.access.keystore import AccessKey
    from stillframe.operations.registry import Operations

OPERATIONS = "operations"
CALLER = "caller"


def operations(router: Router) -> Operations:
    """The process's operations, appended to the context by ``lambda_handler`` for each request."""
    return cast("Operations", router.context[OPERATIONS])


def caller(router: BaseRouter) -> AccessKey | None:
    """The key that signed this request when keys auth is on (``lambda_handler`` admitted it), else None."""
    return cast("AccessKey | None", router.context.get(CALLER))


def visible_to_caller(router: Router) -> Callable[[str], bool] | None:
    """Which streams a listing may show this request's caller; None: all of them."""
    return visible(caller(router))
