"""A stream-limited key reaches only its streams, however a request spells the stream (the key-scope bypass).

Every operation of the table, with its stream named by each spelling a request model could know (the Python field
names beside the wire names), signed by a key limited to ``lobby-`` streams: nothing outside ``lobby-`` is read,
created or changed. The requests are raw JSON bodies signed with SigV4 for kinesisvideo, as a hostile client
would send them (boto3 only sends wire names).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from pydantic import BaseModel

from stillframe.access.keystore import AccessKey
from stillframe.domain.operations import OPERATIONS, OperationSpec
from stillframe.domain.shapes import WireModel
from tests.functional.test_keys_auth_handler import STAGE_URL, boto3_event, create, handle, keys, proxy_event

__all__ = ["handle", "keys"]  # fixtures used by name

SECRET = "secret-cam"
OWN = "lobby-1"
WIRE_STREAM_FIELDS = ("StreamName", "StreamARN", "ResourceARN")
IMAGE_GENERATION = {
    "Status": "ENABLED",
    "ImageSelectorType": "SERVER_TIMESTAMP",
    "DestinationConfig": {"Uri": "s3://some-bucket/stills", "DestinationRegion": "eu-west-1"},
    "SamplingInterval": 1000,
    "Format": "JPEG",
}


def other_members(operation: str, version: str) -> dict[str, Any]:
    """A valid request of ``operation`` but for its stream member."""
    return {
        "CreateStream": {"DataRetentionInHours": 1},
        "GetDataEndpoint": {"APIName": "GET_IMAGES"},
        "UpdateDataRetention": {
            "CurrentVersion": version,
            "Operation": "INCREASE_DATA_RETENTION",
            "DataRetentionChangeInHours": 5,
        },
        "UpdateStream": {"CurrentVersion": version, "DeviceName": "hijacked"},
        "TagStream": {"Tags": {"owner": "attacker"}},
        "UntagStream": {"TagKeyList": ["team"]},
        "TagResource": {"Tags": [{"Key": "owner", "Value": "attacker"}]},
        "UntagResource": {"TagKeyList": ["team"]},
        "UpdateImageGenerationConfiguration": {"ImageGenerationConfiguration": IMAGE_GENERATION},
        "GetImages": {
            "ImageSelectorType": "SERVER_TIMESTAMP",
            "StartTimestamp": 1795600800,
            "EndTimestamp": 1795600801,
            "Format": "JPEG",
        },
        "GetClip": {
            "ClipFragmentSelector": {
                "FragmentSelectorType": "SERVER_TIMESTAMP",
                "TimestampRange": {"StartTimestamp": 1795600800, "EndTimestamp": 1795600801},
            }
        },
        "GetMediaForFragmentList": {"Fragments": ["1"]},
        "GetMedia": {"StartSelector": {"StartSelectorType": "EARLIEST"}},
    }.get(operation, {})


def stream_spellings(spec: OperationSpec) -> list[str]:
    """Every non-wire name a request model field naming a stream could have been read by."""
    names = {"stream_name", "stream_arn", "stream_name_given", "stream_arn_given", "resource_arn"}
    names.update(name for name, field in spec.request.model_fields.items() if _names_stream(field.alias))
    return sorted(names)


def _names_stream(alias: str | None) -> bool:
    return alias in WIRE_STREAM_FIELDS or (alias or "").startswith("x-amzn-stream")


def arn_of(handle: Callable[..., Any], key: AccessKey, name: str) -> str:
    return str(handle(boto3_event(key, "describe_stream", StreamName=name))["body"]["StreamInfo"]["StreamARN"])


def wire_value(field: str, name: str, arn: str) -> str:
    return arn if field != "StreamName" else name


def raw_event(key: AccessKey, spec: OperationSpec, body: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    """A request with exactly this JSON body (or PutMedia headers), signed for kinesisvideo by ``key``."""
    url = f"{STAGE_URL}{spec.path}"
    data = b"\x1a\x45\xdf\xa3" if spec.from_headers else json.dumps(body).encode()
    content_type = "application/octet-stream" if spec.from_headers else "application/json"
    request = AWSRequest(method="POST", url=url, data=data, headers={**headers, "Content-Type": content_type})
    SigV4Auth(Credentials(key.access_key_id, key.secret_access_key), "kinesisvideo", "eu-west-1").add_auth(request)
    return proxy_event("POST", url, request.headers, data)


def state(handle: Callable[..., Any], key: AccessKey) -> dict[str, Any]:
    """What an open key sees of every stream: records, tags and image-generation configurations."""
    listing = handle(boto3_event(key, "list_streams"))["body"]["StreamInfoList"]
    seen: dict[str, Any] = {}
    for info in listing:
        name = info["StreamName"]
        tags = handle(boto3_event(key, "list_tags_for_stream", StreamName=name))["body"]
        config = handle(boto3_event(key, "describe_image_generation_configuration", StreamName=name))["body"]
        seen[name] = (info, tags, config)
    return seen


@pytest.fixture
def streams(handle: Callable[..., Any], keys: dict[str, AccessKey]) -> dict[str, str]:
    """``secret-cam`` (tagged) and ``lobby-1``, made by the open key; their ARNs."""
    for name in (SECRET, OWN):
        assert create(handle, keys["open"], name)["status"] == 200
        tagged = handle(boto3_event(keys["open"], "tag_stream", StreamName=name, Tags={"team": "ops"}))
        assert tagged["status"] == 200, tagged
    return {name: arn_of(handle, keys["open"], name) for name in (SECRET, OWN)}


def request_parts(spec: OperationSpec, fields: dict[str, str], version: str) -> tuple[dict[str, Any], dict[str, str]]:
    if spec.from_headers:
        return {}, {"x-amzn-fragment-timecode-type": "RELATIVE", **fields}
    return {**other_members(spec.name, version), **fields}, {}


PER_STREAM = [spec for spec in OPERATIONS if spec.per_stream]


@pytest.mark.parametrize("spec", PER_STREAM, ids=[spec.name for spec in PER_STREAM])
def test_a_prefix_key_cannot_reach_another_stream_by_any_spelling(
    handle: Callable[..., Any], keys: dict[str, AccessKey], streams: dict[str, str], spec: OperationSpec
) -> None:
    # Given a key limited to lobby- streams (allowed to write), and secret-cam outside its prefix
    writer, before = keys["writer"], state(handle, keys["open"])
    version = before[SECRET][0]["Version"]
    target = SECRET if spec.name != "CreateStream" else "secret-new"
    arn = streams[SECRET].replace(f"/{SECRET}/", f"/{target}/")
    for spelling in stream_spellings(spec):
        # When it names the stream by a field name the wire does not have (alone, or beside its own stream)
        alone = {spelling: arn if "arn" in spelling else target}
        beside = {**alone, ("x-amzn-stream-name" if spec.from_headers else "StreamName"): OWN}
        if spec.name in ("DeleteStream",) or spec.name.endswith("Resource"):
            beside = {**alone, ("ResourceARN" if spec.name.endswith("Resource") else "StreamARN"): streams[OWN]}
        for fields in (alone, beside):
            body, headers = request_parts(spec, fields, version)
            answer = handle(raw_event(writer, spec, body, headers))
            # Then nothing names secret-cam back, and (alone) the request is refused
            assert SECRET not in json.dumps(answer["body"]), (spelling, answer)
            if fields is alone:
                assert answer["status"] in (400, 401), (spelling, answer)
    # And nothing outside lobby- was created or changed
    after = state(handle, keys["open"])
    assert {name: value for name, value in after.items() if not name.startswith("lobby-")} == {
        name: value for name, value in before.items() if not name.startswith("lobby-")
    }


@pytest.mark.parametrize("spec", PER_STREAM, ids=[spec.name for spec in PER_STREAM])
def test_the_wire_name_of_another_stream_is_refused_to_a_prefix_key(
    handle: Callable[..., Any], keys: dict[str, AccessKey], streams: dict[str, str], spec: OperationSpec
) -> None:
    # Given the same key, naming secret-cam by its wire name (StreamName, StreamARN, ResourceARN or the header)
    before = state(handle, keys["open"])
    arn = streams[SECRET]
    candidates = [f for f in spec.request.model_fields.values() if _names_stream(f.alias)]
    assert candidates, f"{spec.name} names no stream"
    for field in candidates:
        assert field.alias is not None
        value = arn if "arn" in field.alias.lower() else SECRET
        body, headers = request_parts(spec, {field.alias: value}, before[SECRET][0]["Version"])
        # When it sends it / Then the answer is the modeled 401 naming the stream it may not use
        answer = handle(raw_event(keys["writer"], spec, body, headers))
        assert answer["status"] == 401 and "may not use stream 'secret-cam'" in answer["body"]["message"], answer
    assert state(handle, keys["open"]) == before


def wire_models() -> set[type[BaseModel]]:
    """Every model a request is validated into, nested members included."""
    found: set[type[BaseModel]] = set()
    pending: list[type[BaseModel]] = [spec.request for spec in OPERATIONS]
    while pending:
        model = pending.pop()
        if model in found:
            continue
        found.add(model)
        for field in model.model_fields.values():
            for candidate in _model_types(field.annotation):
                pending.append(candidate)
    return found


def _model_types(annotation: object) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [found for arg in getattr(annotation, "__args__", ()) for found in _model_types(arg)]


def test_no_request_model_reads_a_member_by_its_python_name() -> None:
    # Given every request model of every operation, nested ones included
    models = wire_models()
    assert len(models) > len(OPERATIONS)  # the nested ones (selectors, ranges, destinations) are there
    for model in models:
        assert issubclass(model, WireModel), model
        # When a body spells each aliased member by its Python name
        for name, field in model.model_fields.items():
            if field.alias and field.alias != name:
                # Then the model is configured to read wire names only
                assert model.model_config.get("validate_by_name") is False, model
                assert not model.model_config.get("populate_by_name"), model
    # And, concretely, a Python name is ignored like an unknown member
    get_images = next(spec.request for spec in OPERATIONS if spec.name == "DescribeStream")
    with pytest.raises(ValueError, match="StreamName or StreamARN"):
        get_images.model_validate({"stream_name_given": SECRET})


def test_a_prefix_keys_list_streams_pages_are_full_and_continue(
    handle: Callable[..., Any], keys: dict[str, AccessKey]
) -> None:
    # Given streams in name order where the key's own are spread among others
    for name in ("a-cam", "b-cam", "lobby-1", "m-cam", "lobby-2", "n-cam", "lobby-3", "z-cam"):
        assert create(handle, keys["open"], name)["status"] == 200
    # When the lobby- key lists two at a time
    seen, token = [], None
    while True:
        page = handle(
            boto3_event(keys["viewer"], "list_streams", MaxResults=2, **({"NextToken": token} if token else {}))
        )
        assert page["status"] == 200, page
        names = [info["StreamName"] for info in page["body"]["StreamInfoList"]]
        token = page["body"].get("NextToken")
        # Then every page but the last is full, and only its streams appear
        assert len(names) == 2 or token is None, names
        seen += names
        if token is None:
            break
    assert seen == ["lobby-1", "lobby-2", "lobby-3"]


def test_a_keys_refusal_is_readable_by_a_browser_app(handle: Callable[..., Any], keys: dict[str, AccessKey]) -> None:
    # Given a browser app's signed call (it carries an Origin) that the key may not make
    event = boto3_event(keys["viewer"], "create_stream", StreamName="lobby-9")
    event["headers"]["Origin"] = "https://app.example"
    event["multiValueHeaders"]["Origin"] = ["https://app.example"]
    # When it is refused / Then the 401 carries CORS headers, so the app sees NotAuthorizedException, not a CORS error
    answer = handle(event)
    assert answer["status"] == 401
    assert answer["headers"]["Access-Control-Allow-Origin"] == "*"
    assert "x-amzn-ErrorType" in answer["headers"]["Access-Control-Expose-Headers"]
