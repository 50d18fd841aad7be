"""The deployed functions' answers carry CORS as KVS's do, so a browser app signing with the JS SDK can read them.

(API Gateway answers the preflights itself: tests/infra/test_rest_api.py.)
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import FakeContext, Invoker, decoded, rest_event

APP = "https://app.example"


def from_page(invoke: Invoker, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """``path`` called with an Origin, in both header maps, as API Gateway passes every header."""
    from stillframe.handlers.api import lambda_handler

    event = rest_event(path, body, {"Origin": APP})
    event["multiValueHeaders"] = {**(event.get("multiValueHeaders") or {}), "Origin": [APP]}
    return decoded(lambda_handler(event, FakeContext(), svc=invoke.services))


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/createStream", {"StreamName": "browser", "DataRetentionInHours": 1}, 200),
        ("/describeStream", {"StreamName": "absent"}, 404),  # an operation's error
        ("/describeStream", {"StreamName": ""}, 400),  # a validation error
        ("/noSuchOperation", {}, None),  # a path that is no operation
    ],
)
def test_answers_to_a_page_carry_cors(invoke, path: str, body: dict, status: int | None) -> None:
    # Given a request from a page of another origin (its signature is checked by the gateway or the keys guard)
    answer = from_page(invoke, path, body)
    # Then the page may read the answer and the error type the SDK names its exception from
    assert status is None or answer["status"] == status
    assert answer["headers"]["Access-Control-Allow-Origin"] == "*"
    assert "x-amzn-ErrorType" in answer["headers"]["Access-Control-Expose-Headers"].split(",")


def test_answers_without_an_origin_carry_no_cors(invoke) -> None:
    # SDK clients outside a browser send no Origin and get the answers they always got
    answer = invoke("/listStreams", {})
    assert not [name for name in answer["headers"] if name.lower().startswith("access-control-")]
