"""The largest media answer the deployed function gives still fits Lambda's response cap once base64 and proxied."""

from __future__ import annotations

import json

from stillframe.settings import LAMBDA_MAX_MEDIA_BYTES, LAMBDA_RESPONSE_BYTES, MAX_MEDIA_BYTES, Settings
from tests.conftest import FakeContext, rest_event


def test_a_limit_sized_clip_fits_the_lambda_response(monkeypatch):
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response

    # Given a resolver answering a body of exactly the deployed limit, with the headers Stillframe adds
    app = APIGatewayRestResolver()

    @app.post("/getClip")
    def clip():  # unannotated, as the media routes
        headers = {"x-amzn-RequestId": "0" * 36, "Access-Control-Allow-Origin": "*"}
        return Response(200, "video/mp4", b"\xff" * LAMBDA_MAX_MEDIA_BYTES, headers=headers)

    # When it is proxied
    response = app.resolve(rest_event("/getClip", {}), FakeContext())
    # Then the JSON Lambda returns stays under its cap, with room for more headers
    assert response["isBase64Encoded"]
    assert len(json.dumps(response)) <= LAMBDA_RESPONSE_BYTES - 8 * 1024


def test_limits_by_place():
    assert Settings.from_env({}).max_media_bytes == MAX_MEDIA_BYTES == 100 * 1024 * 1024
    assert Settings.from_env({"AWS_LAMBDA_FUNCTION_NAME": "f"}).max_media_bytes == LAMBDA_MAX_MEDIA_BYTES
