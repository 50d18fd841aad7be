"""``-c authMode=iam|keys``: who verifies SigV4, the gateway (AWS_IAM) or the functions (against KeysSecret).

The runtime contract: the API functions get ``STILLFRAME_AUTH`` ("none" or "keys") and, with keys,
``STILLFRAME_KEYS_SECRET_ARN`` and read access to that secret; the ingest function gets neither.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aws_cdk import Stack
from aws_cdk.assertions import Template

from infra.constructs.keys_secret import KeysSecret
from tests.infra.cdk_helpers import Synthesized

Synthesize = Callable[..., Synthesized]
AUTH_VARIABLES = ("STILLFRAME_AUTH", "STILLFRAME_KEYS_SECRET_ARN", "STILLFRAME_KEYS_CACHE_SECONDS")


def _variables(synthesized: Synthesized, function: Any) -> dict[str, Any]:
    logical_id = synthesized.stack.get_logical_id(function.node.default_child)
    variables: dict[str, Any] = synthesized.resources("AWS::Lambda::Function")[logical_id]["Properties"]["Environment"][
        "Variables"
    ]
    return variables


def _readers_of(synthesized: Synthesized, secret: Any) -> set[str]:
    """Logical ids of the roles whose policies may read ``secret`` (alone or merged with other resources)."""
    ref = {"Ref": synthesized.stack.get_logical_id(secret.node.default_child)}
    return {
        role["Ref"]
        for policy in synthesized.resources("AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if ref in _as_list(statement["Resource"]) and "secretsmanager:GetSecretValue" in statement["Action"]
        for role in policy["Properties"]["Roles"]
    }


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _role_id(synthesized: Synthesized, function: Any) -> str:
    return synthesized.stack.get_logical_id(function.role.node.default_child)


def _methods(synthesized: Synthesized) -> list[dict[str, Any]]:
    """The methods that reach a function: all but the CORS preflights (unsigned by design, answered by a mock)."""
    methods = [m["Properties"] for m in synthesized.resources("AWS::ApiGateway::Method").values()]
    return [method for method in methods if method["HttpMethod"] != "OPTIONS"]


def _operations(synthesized: Synthesized) -> list[dict[str, Any]]:
    """The signed calls: every method but the preflights and the playback GETs (a SessionToken is their credential)."""
    return [method for method in _methods(synthesized) if method["HttpMethod"] != "GET"]


def test_iam_mode_is_the_default_gateway_checks_every_operation(synthesize: Synthesize) -> None:
    synthesized = synthesize()
    stack = synthesized.stack
    assert {m["AuthorizationType"] for m in _operations(synthesized)} == {"AWS_IAM"}
    # (the playback GETs are not signed in any mode: players cannot sign, the function checks their token)
    assert {m["AuthorizationType"] for m in _methods(synthesized) if m["HttpMethod"] == "GET"} == {"NONE"}
    assert synthesized.violations() == []
    # And the API functions are told so; there is no key store
    for function in (stack.control_plane.function, stack.media.function):
        variables = _variables(synthesized, function)
        assert variables["STILLFRAME_AUTH"] == "none"
        assert "STILLFRAME_KEYS_SECRET_ARN" not in variables
    assert stack.keys_secret is None
    assert len(synthesized.resources("AWS::SecretsManager::Secret")) == 1
    assert synthesized.template.to_json()["Outputs"]["AuthMode"]["Value"] == "iam"


def test_keys_mode_leaves_authorization_to_the_functions(synthesize: Synthesize) -> None:
    # Given the stack with authMode=keys
    synthesized = synthesize(authMode="keys")
    stack = synthesized.stack
    # Then API Gateway authorizes nothing (the functions verify SigV4 against the key store)
    methods = _methods(synthesized)
    assert len(methods) == len(_methods(synthesize()))
    assert {m["AuthorizationType"] for m in methods} == {"NONE"}
    # And the cdk-nag findings that follows from that are acknowledged (the synth succeeds)
    assert synthesized.violations() == []
    assert synthesized.error is None
    assert "AwsSolutions-APIG4" in synthesized.acknowledged_rules(stack.api.api)


def test_keys_mode_gives_both_api_functions_the_key_store_and_the_ingest_nothing(synthesize: Synthesize) -> None:
    synthesized = synthesize(authMode="keys")
    stack = synthesized.stack
    assert stack.keys_secret is not None
    secret_ref = {"Ref": stack.get_logical_id(stack.keys_secret.secret.node.default_child)}
    for function in (stack.control_plane.function, stack.media.function):
        variables = _variables(synthesized, function)
        assert variables["STILLFRAME_AUTH"] == "keys"
        assert variables["STILLFRAME_KEYS_SECRET_ARN"] == secret_ref
        # (the key cache keeps the runtime's default outside the LocalStack build)
        assert "STILLFRAME_KEYS_CACHE_SECONDS" not in variables
    ingest = _variables(synthesized, stack.ingest.function)
    assert not [name for name in AUTH_VARIABLES if name in ingest]
    # And exactly the two API functions may read the key store
    assert _readers_of(synthesized, stack.keys_secret.secret) == {
        _role_id(synthesized, stack.control_plane.function),
        _role_id(synthesized, stack.media.function),
    }


def test_keys_mode_starts_with_an_empty_key_store_and_outputs_its_arn(synthesize: Synthesize) -> None:
    synthesized = synthesize(authMode="keys")
    stack = synthesized.stack
    assert stack.keys_secret is not None
    logical_id = stack.get_logical_id(stack.keys_secret.secret.node.default_child)
    secret = synthesized.resources("AWS::SecretsManager::Secret")[logical_id]["Properties"]
    assert json.loads(secret["SecretString"]) == {"version": 1, "keys": []}
    assert "GenerateSecretString" not in secret
    outputs = synthesized.template.to_json()["Outputs"]
    assert outputs["AuthMode"]["Value"] == "keys"
    assert outputs["KeysSecretArn"]["Value"] == {"Ref": logical_id}


def test_gateway_responses_are_the_same_in_both_modes(synthesize: Synthesize) -> None:
    def responses(synthesized: Synthesized) -> dict[str, Any]:
        return synthesized.resources("AWS::ApiGateway::GatewayResponse")

    assert responses(synthesize(authMode="keys")) == responses(synthesize())


def test_the_key_store_construct_alone(bare_stack: Callable[..., Stack]) -> None:
    stack = bare_stack()
    KeysSecret(stack, "Keys")
    [secret] = Template.from_stack(stack).find_resources("AWS::SecretsManager::Secret").values()
    assert json.loads(secret["Properties"]["SecretString"]) == {"version": 1, "keys": []}
    assert secret["DeletionPolicy"] == "Delete"


def test_put_media_endpoint_reaches_the_control_plane_only_when_given(synthesize: Synthesize) -> None:
    # Given the stack without and with a session host for KVS producers
    plain = synthesize()
    hosted = synthesize(putMediaEndpoint="https://cams.example.net:4577/")
    # Then only the control-plane function (GetDataEndpoint) is told where producers stream
    assert "STILLFRAME_PUT_MEDIA_ENDPOINT" not in _variables(plain, plain.stack.control_plane.function)
    variables = _variables(hosted, hosted.stack.control_plane.function)
    assert variables["STILLFRAME_PUT_MEDIA_ENDPOINT"] == "https://cams.example.net:4577"
    assert "STILLFRAME_PUT_MEDIA_ENDPOINT" not in _variables(hosted, hosted.stack.media.function)
