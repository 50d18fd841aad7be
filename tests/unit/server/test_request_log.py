"""What serve's per-request log line says about a request: its operation (the stream: tests/compat)."""

from __future__ import annotations

import pytest

from stillframe.server.request_log import operation_of


@pytest.mark.parametrize(
    ("target", "operation"),
    [
        ("/getImages", "GetImages"),
        ("/listStreams?x=1", "ListStreams"),
        ("/%67etImages", "GetImages"),  # routed on the decoded path, as the event's path is
        ("/health", None),
        ("/", None),
        ("/getImages/extra", None),
    ],
)
def test_the_operation_is_the_route_the_path_names(target: str, operation: str | None) -> None:
    assert operation_of(target) == operation
