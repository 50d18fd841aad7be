"""StillframeApi alone, in front of two stand-in functions."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from aws_cdk import Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk.assertions import Template

from infra.constructs.gateway_responses import CORS_EXPOSE_HEADERS
from infra.constructs.rest_api import (
    CONTROL_PLANE_OPERATIONS,
    CORS_ALLOW_HEADERS,
    MEDIA_OPERATIONS,
    PLAYBACK_PATHS,
    StillframeApi,
)
from stillframe.api.cors import ALLOW_HEADERS, EXPOSE_HEADERS, MAX_AGE_S


def _stand_in(stack: Stack, name: str) -> lambda_.Function:
    return lambda_.Function(
        stack,
        name,
        runtime=lambda_.Runtime.PYTHON_3_11,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return None\n"),
    )


class Api:
    """The API construct's template, with the stand-ins' logical ids."""

    def __init__(self, stack: Stack, **options: Any) -> None:
        control, media = _stand_in(stack, "Control"), _stand_in(stack, "Media")
        self.construct = StillframeApi(
            stack,
            "Api",
            control_plane=control,
            media=media,
            stage_name="v1",
            throttle_rate_limit=20,
            throttle_burst_limit=40,
            log_retention=logs.RetentionDays.ONE_WEEK,
            **options,
        )
        self.template = Template.from_stack(stack)
        self.control_id = stack.get_logical_id(control.node.default_child)  # type: ignore[arg-type]
        self.media_id = stack.get_logical_id(media.node.default_child)  # type: ignore[arg-type]

    def methods(self) -> list[dict[str, Any]]:
        return [m["Properties"] for m in self.template.find_resources("AWS::ApiGateway::Method").values()]

    def path_of(self, method: dict[str, Any]) -> str:
        """The full resource path of a method (``/`` for the root)."""
        resources = self.template.find_resources("AWS::ApiGateway::Resource")
        reference, parts = method["ResourceId"], []
        while "Ref" in reference:
            resource = resources[reference["Ref"]]["Properties"]
            parts.insert(0, resource["PathPart"])
            reference = resource["ParentId"]
        return "/" + "/".join(parts)

    def route_targets(self) -> dict[str, str]:
        """``METHOD /path`` -> logical id of the function it invokes."""
        targets = {}
        for method in self.methods():
            if method["HttpMethod"] == "OPTIONS":
                continue  # the CORS preflights: a mock integration, no function
            uri = json.dumps(method["Integration"]["Uri"])
            target = self.media_id if self.media_id in uri else self.control_id
            targets[f"{method['HttpMethod']} {self.path_of(method)}"] = target
        return targets

    def authorization(self) -> dict[str, str]:
        """``METHOD /path`` -> its authorization type (preflights included)."""
        return {f"{m['HttpMethod']} {self.path_of(m)}": m["AuthorizationType"] for m in self.methods()}

    def gateway_responses(self) -> dict[str, dict[str, Any]]:
        return {
            r["Properties"]["ResponseType"]: r["Properties"]
            for r in self.template.find_resources("AWS::ApiGateway::GatewayResponse").values()
        }


@pytest.fixture
def api(bare_stack: Callable[..., Stack]) -> Api:
    return Api(bare_stack())


def operations(api: Api) -> list[dict[str, Any]]:
    """The methods that reach a function (every one but the CORS preflights)."""
    return [method for method in api.methods() if method["HttpMethod"] != "OPTIONS"]


ROUTES = len(CONTROL_PLANE_OPERATIONS) + len(MEDIA_OPERATIONS) + 2  # the POSTs, and ANY on / and {proxy+}
PLAYBACK_FOLDERS = ("/hls", "/hls/v1", "/dash", "/dash/v1")


def test_every_operation_requires_sigv4_and_playback_gets_none(api: Api) -> None:
    # Given the IAM-mode API
    authorization = api.authorization()
    # Then every operation and the catch-all require SigV4
    signed = {route for route in authorization if not route.startswith(("OPTIONS ", "GET "))}
    assert len(signed) == ROUTES
    assert {authorization[route] for route in signed} == {"AWS_IAM"}
    # And the GETs a playback session URL leads to are open to the gateway: players cannot sign, the
    # SessionToken in their query string is what the function checks
    assert {route for route in authorization if route.startswith("GET ")} == {f"GET {p}" for p in PLAYBACK_PATHS}
    assert {authorization[f"GET {path}"] for path in PLAYBACK_PATHS} == {"NONE"}


def test_with_authorization_none_no_method_is_checked_by_the_gateway(bare_stack: Callable[..., Stack]) -> None:
    # authMode=keys: the functions verify SigV4 themselves, so the gateway must let every request through
    api = Api(bare_stack(), authorization_type=apigw.AuthorizationType.NONE)
    assert {m["AuthorizationType"] for m in api.methods()} == {"NONE"}
    assert len(operations(api)) == ROUTES + len(PLAYBACK_PATHS)


def _preflight_headers(method: dict[str, Any]) -> dict[str, str]:
    assert method["AuthorizationType"] == "NONE" and method["Integration"]["Type"] == "MOCK"
    [answer] = method["Integration"]["IntegrationResponses"]
    assert answer["StatusCode"] == "200"
    return {name.rsplit(".", 1)[1]: value.strip("'") for name, value in answer["ResponseParameters"].items()}


def test_every_resource_answers_the_cors_preflight_as_kvs_does(api: Api) -> None:
    # Given the preflights a browser sends before a signed call (without credentials)
    preflights = [m for m in api.methods() if m["HttpMethod"] == "OPTIONS" and not _is_playback(api.path_of(m))]
    # Then every resource (root, each operation, the catch-all) has one, unsigned, answered by a mock integration
    assert len(preflights) == ROUTES
    for method in preflights:
        headers = _preflight_headers(method)
        # with what KVS answers: any origin, POST, the JS SDK's signing headers, the error type exposed
        assert headers["Access-Control-Allow-Origin"] == "*"
        assert headers["Access-Control-Allow-Methods"] == "POST"
        assert headers["Access-Control-Allow-Headers"].split(",") == list(ALLOW_HEADERS)
        assert "x-amzn-ErrorType" in headers["Access-Control-Expose-Headers"].split(",")
        assert headers["Access-Control-Max-Age"] == str(MAX_AGE_S)


def _is_playback(path: str) -> bool:
    return path.startswith(("/hls", "/dash"))


def test_playback_paths_answer_a_players_preflight_for_get(api: Api) -> None:
    # Given the preflights of the playback paths (a page's player sends one when it adds a header of its own)
    preflights = {api.path_of(m): m for m in api.methods() if m["HttpMethod"] == "OPTIONS"}
    playback = {path: method for path, method in preflights.items() if _is_playback(path)}
    # Then each path and its folders has one, unsigned, from a mock integration, allowing GET from any origin
    assert set(playback) == set(PLAYBACK_PATHS) | set(PLAYBACK_FOLDERS)
    for method in playback.values():
        headers = _preflight_headers(method)
        assert headers["Access-Control-Allow-Origin"] == "*"
        assert headers["Access-Control-Allow-Methods"] == "GET"
        assert "x-amzn-ErrorType" in headers["Access-Control-Expose-Headers"].split(",")
        assert headers["Access-Control-Max-Age"] == str(MAX_AGE_S)


def test_the_gateway_uses_the_functions_cors_lists() -> None:
    # One contract, written twice (infra does not import the runtime package): they must not drift
    assert list(ALLOW_HEADERS) == CORS_ALLOW_HEADERS
    assert CORS_EXPOSE_HEADERS == EXPOSE_HEADERS


def test_the_gateway_routes_every_operation_of_the_table_to_its_plane() -> None:
    # One table (stillframe.domain.operations), copied in route form by infra: the two must not drift
    from stillframe.domain.operations import OPERATIONS, Plane

    for plane, paths in ((Plane.CONTROL, CONTROL_PLANE_OPERATIONS), (Plane.MEDIA, MEDIA_OPERATIONS)):
        assert sorted(f"/{path}" for path in paths) == sorted(spec.path for spec in OPERATIONS if spec.plane == plane)


def test_the_gateway_routes_every_playback_path_of_the_runtime() -> None:
    # The GETs a session URL leads to (stillframe.domain.playback), copied by infra: the two must not drift
    from stillframe.domain.playback import PLAYBACK_PATHS as RUNTIME_PLAYBACK_PATHS

    assert sorted(PLAYBACK_PATHS) == sorted(RUNTIME_PLAYBACK_PATHS)


def test_operations_route_to_the_light_or_the_media_function(api: Api) -> None:
    targets = api.route_targets()
    for operation in CONTROL_PLANE_OPERATIONS:
        assert targets[f"POST /{operation}"] == api.control_id
    for operation in MEDIA_OPERATIONS:
        assert targets[f"POST /{operation}"] == api.media_id
    # The playback GETs (playlists, manifests, segments) are the media function's too
    for path in PLAYBACK_PATHS:
        assert targets[f"GET {path}"] == api.media_id
    # And unknown paths reach the light function (which answers 404 UnknownOperationException), not the image
    assert targets["ANY /{proxy+}"] == api.control_id
    assert targets["ANY /"] == api.control_id


def test_binary_bodies_arrive_base64_encoded(api: Api) -> None:
    [rest_api] = api.template.find_resources("AWS::ApiGateway::RestApi").values()
    assert {"application/octet-stream", "video/*", "*/*"} <= set(rest_api["Properties"]["BinaryMediaTypes"])
    # "*/*": every body (JSON too) reaches the function as its exact bytes, as SigV4 verification needs;
    # no method or integration converts or maps bodies
    for method in operations(api):
        assert "ContentHandling" not in method["Integration"]
        assert "RequestTemplates" not in method["Integration"]
        assert method["Integration"]["Type"] == "AWS_PROXY"
    assert rest_api["Properties"]["EndpointConfiguration"] == {"Types": ["REGIONAL"]}


def test_stage_is_throttled_traced_and_access_logged(api: Api) -> None:
    [stage] = api.template.find_resources("AWS::ApiGateway::Stage").values()
    props = stage["Properties"]
    assert props["StageName"] == "v1"
    assert props["TracingEnabled"] is True
    [settings] = props["MethodSettings"]
    assert settings["ThrottlingRateLimit"] == 20
    assert settings["ThrottlingBurstLimit"] == 40
    assert settings["DataTraceEnabled"] is False
    log_format = json.loads(props["AccessLogSetting"]["Format"])
    assert log_format["requestId"] == "$context.requestId"
    assert log_format["errorType"] == "$context.error.responseType"


@pytest.mark.parametrize(
    ("response_type", "error_type"),
    [
        ("THROTTLED", "ClientLimitExceededException"),
        ("QUOTA_EXCEEDED", "ClientLimitExceededException"),
        ("ACCESS_DENIED", "NotAuthorizedException"),
        ("MISSING_AUTHENTICATION_TOKEN", "NotAuthorizedException"),
        ("INVALID_SIGNATURE", "NotAuthorizedException"),
        ("EXPIRED_TOKEN", "NotAuthorizedException"),
        ("UNAUTHORIZED", "NotAuthorizedException"),
        ("REQUEST_TOO_LARGE", "InvalidArgumentException"),
        ("RESOURCE_NOT_FOUND", "UnknownOperationException"),
        ("DEFAULT_4XX", "InvalidArgumentException"),
        ("DEFAULT_5XX", "InternalFailure"),
    ],
)
def test_gateway_errors_carry_the_aws_error_type(api: Api, response_type: str, error_type: str) -> None:
    # Given the gateway response for one of API Gateway's own errors
    response = api.gateway_responses()[response_type]
    # Then boto3 finds the modeled error name in the header and in the body
    headers = response["ResponseParameters"]
    assert headers["gatewayresponse.header.x-amzn-ErrorType"] == f"'{error_type}'"
    # (and a browser app may read both: the gateway's refusals carry CORS too)
    assert headers["gatewayresponse.header.Access-Control-Allow-Origin"] == "'*'"
    assert "x-amzn-ErrorType" in headers["gatewayresponse.header.Access-Control-Expose-Headers"]
    body = response["ResponseTemplates"]["application/json"]
    # ($context.error.messageString is substituted by the gateway as a quoted JSON string)
    rendered = json.loads(body.replace("$context.error.messageString", json.dumps("Too Many Requests")))
    assert rendered["__type"] == error_type
    # And the gateway keeps its own status code (429 makes SDKs back off; 5xx makes them retry)
    assert "StatusCode" not in response


def test_5xx_bodies_reveal_nothing_about_the_failure(api: Api) -> None:
    body = api.gateway_responses()["DEFAULT_5XX"]["ResponseTemplates"]["application/json"]
    assert "$context" not in body
    assert json.loads(body) == {"__type": "InternalFailure", "message": "Internal failure"}
