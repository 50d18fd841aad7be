"""The public face: a REST API with SigV4 auth, one POST route per KVS operation, and CORS as KVS answers it.

SigV4 is checked by API Gateway (AWS_IAM on every operation), or, with ``authorization_type`` NONE, by the
functions themselves against the deployment's access keys (authMode=keys). Browser apps may call it from any
origin, as they may call KVS: every call must still be signed, which a foreign page cannot do. So each resource
answers the CORS preflight (OPTIONS, which browsers send without credentials) from a mock integration, the
functions put ``Access-Control-Allow-Origin`` on their answers (``stillframe.api.cors``) and the gateway on its own
errors (``gateway_responses``).

The GETs a playback session URL leads to (HLS playlists, the DASH manifest, their segments) are the exception:
players cannot sign, so the gateway lets them through in every auth mode and the media function checks the
``SessionToken`` their query string carries, as KVS does.
"""

from __future__ import annotations

import json

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.constructs.gateway_responses import CORS_EXPOSE_HEADERS, add_aws_error_responses

# Every operation's path, by the function that answers it: the runtime's operation table
# (``stillframe.domain.operations``, which infra does not import) in route form; tests/infra keeps the two equal.
CONTROL_PLANE_OPERATIONS = (
    "createStream",
    "describeStream",
    "listStreams",
    "deleteStream",
    "getDataEndpoint",
    "updateDataRetention",
    "updateStream",
    "tagStream",
    "untagStream",
    "listTagsForStream",
    "TagResource",
    "UntagResource",
    "ListTagsForResource",
    "updateImageGenerationConfiguration",
    "describeImageGenerationConfiguration",
)
MEDIA_OPERATIONS = (
    "getImages",
    "listFragments",
    "getClip",
    "getMediaForFragmentList",
    "getMedia",
    "putMedia",
    "getHLSStreamingSessionURL",
    "getDASHStreamingSessionURL",
)
# The GETs of a playback session (``stillframe.domain.playback.PLAYBACK_PATHS``, kept equal by tests/infra): KVS's
# own paths, unsigned, answered by the media function.
PLAYBACK_PATHS = (
    "/hls/v1/getHLSMasterPlaylist.m3u8",
    "/hls/v1/getHLSMediaPlaylist.m3u8",
    "/hls/v1/getMP4InitFragment.mp4",
    "/hls/v1/getMP4MediaFragment.mp4",
    "/hls/v1/getTSFragment.ts",
    "/dash/v1/getDASHManifest.mpd",
    "/dash/v1/getMP4InitFragment.mp4",
    "/dash/v1/getMP4MediaFragment.mp4",
)

# Bodies of these types reach Lambda base64-encoded and intact; PutMedia sends raw media bytes. "*/*" covers
# clients that send no or another Content-Type (JSON then arrives base64 too; Powertools decodes it), so no
# body is ever re-encoded on the way: the function sees the signed bytes, as SigV4 checking needs. Answers: a
# function's base64 body (isBase64Encoded: media, playback segments) goes out as bytes, since "*/*" matches every
# Accept, none included; a text body (JSON, playlists, manifests) goes out as it is.
BINARY_MEDIA_TYPES = ["application/octet-stream", "video/*", "*/*"]

# The preflight answer KVS gives (stillframe.api.cors holds the same lists for the functions and serve; a test
# checks they agree): every origin, POST, the headers the JS SDK v3 signs and sends, PutMedia's, two days.
CORS_ALLOW_HEADERS = [
    "authorization",
    "content-type",
    "x-amz-date",
    "x-amz-security-token",
    "x-amz-user-agent",
    "x-amz-content-sha256",
    "amz-sdk-invocation-id",
    "amz-sdk-request",
    "x-amzn-stream-name",
    "x-amzn-stream-arn",
    "x-amzn-fragment-timecode-type",
    "x-amzn-producer-start-timestamp",
]


def _preflight(method: str) -> apigw.CorsOptions:
    return apigw.CorsOptions(
        allow_origins=apigw.Cors.ALL_ORIGINS,
        allow_methods=[method],
        allow_headers=CORS_ALLOW_HEADERS,
        expose_headers=list(CORS_EXPOSE_HEADERS),
        max_age=Duration.seconds(172_800),
        status_code=200,
    )


CORS_PREFLIGHT = _preflight("POST")
# A player's preflight (a page's hls.js or dash.js sends one when it adds a header of its own): the same, for GET.
PLAYBACK_CORS_PREFLIGHT = _preflight("GET")

ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "caller": "$context.identity.caller",
    "userArn": "$context.identity.userArn",
    "requestTime": "$context.requestTime",
    "httpMethod": "$context.httpMethod",
    "path": "$context.path",
    "status": "$context.status",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "responseLatency": "$context.responseLatency",
    "integrationLatency": "$context.integrationLatency",
    "integrationStatus": "$context.integrationStatus",
    "errorType": "$context.error.responseType",
    "errorMessage": "$context.error.message",
}


class StillframeApi(Construct):
    """REST API: one authorization on every method, binary bodies, throttling, access logs, X-Ray, AWS errors, CORS.

    Control-plane operations and the catch-all (``/`` and ``/{proxy+}``: unknown paths answer 404 from the
    function) go to ``control_plane``; the media operations (GetImages, GetClip, PutMedia, the playback sessions,
    ...) and the playback GETs (never gateway-authorized) go to ``media``.

    Attributes:
      api: the REST API; ``api.url`` is the data endpoint (stage path included).
      access_log_group: the stage's access log group.
      gateway_responses: the AWS error shape for gateway-made errors.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        control_plane: lambda_.IFunction,
        media: lambda_.IFunction,
        stage_name: str,
        throttle_rate_limit: int,
        throttle_burst_limit: int,
        log_retention: logs.RetentionDays,
        authorization_type: apigw.AuthorizationType = apigw.AuthorizationType.IAM,
    ) -> None:
        super().__init__(scope, construct_id)
        self.access_log_group = logs.LogGroup(
            self, "AccessLogs", retention=log_retention, removal_policy=RemovalPolicy.DESTROY
        )
        self.api = apigw.RestApi(
            self,
            "Api",
            rest_api_name=f"{Stack.of(self).stack_name}-api",
            description="Stillframe: Kinesis Video Streams GetImages-compatible API",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            binary_media_types=BINARY_MEDIA_TYPES,
            default_method_options=apigw.MethodOptions(authorization_type=authorization_type),
            # An OPTIONS method with a mock integration and no authorization on every resource.
            default_cors_preflight_options=CORS_PREFLIGHT,
            # Execution logs (errors only) need the account-level CloudWatch role; it is kept on delete
            # because it is shared by every REST API of the account and region.
            cloud_watch_role=True,
            deploy_options=apigw.StageOptions(
                stage_name=stage_name,
                throttling_rate_limit=throttle_rate_limit,
                throttling_burst_limit=throttle_burst_limit,
                tracing_enabled=True,
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,  # never log bodies: they hold images and media
                access_log_destination=apigw.LogGroupLogDestination(self.access_log_group),
                access_log_format=apigw.AccessLogFormat.custom(json.dumps(ACCESS_LOG_FIELDS)),
            ),
        )
        # RestApi adds an "Endpoint" output of its own; the stack outputs the same URL as ApiUrl, once.
        self.api.node.try_remove_child("Endpoint")
        self._add_routes(control_plane=control_plane, media=media)
        self.gateway_responses = add_aws_error_responses(self.api)

    def _add_routes(self, *, control_plane: lambda_.IFunction, media: lambda_.IFunction) -> None:
        control = apigw.LambdaIntegration(control_plane, allow_test_invoke=False)
        media_integration = apigw.LambdaIntegration(media, allow_test_invoke=False)
        for operation in CONTROL_PLANE_OPERATIONS:
            self.api.root.add_resource(operation).add_method("POST", control)
        for operation in MEDIA_OPERATIONS:
            self.api.root.add_resource(operation).add_method("POST", media_integration)
        self._add_playback_routes(media_integration)
        self.api.root.add_method("ANY", control)
        self.api.root.add_proxy(default_integration=control, any_method=True)

    def _add_playback_routes(self, media: apigw.LambdaIntegration) -> None:
        """One unauthorized GET per playback path: the SessionToken, checked by the function, is the credential."""
        root = self.api.root
        for path in PLAYBACK_PATHS:
            top, rest = path.strip("/").split("/", 1)
            # /hls and /dash answer a GET preflight, and so do the resources below them (they inherit it)
            folder = root.get_resource(top) or root.add_resource(
                top, default_cors_preflight_options=PLAYBACK_CORS_PREFLIGHT
            )
            folder.resource_for_path(rest).add_method("GET", media, authorization_type=apigw.AuthorizationType.NONE)
