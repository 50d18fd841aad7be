"""Keys mode refuses what it must, through the deployed path (LocalStack does not enforce IAM, so this is where
refusals are proven): unsigned, wrongly signed, revoked and out-of-scope requests get NotAuthorizedException."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config

from tests.e2e.conftest import Deployment, eventually, keys_cli, new_key, refused, sdk_client, unique_stream

pytestmark = pytest.mark.e2e


def test_unsigned_request_is_refused(keys_stack: Deployment) -> None:
    # A plain HTTPS POST with no Authorization header at all
    request = urllib.request.Request(
        keys_stack.api_url.rstrip("/") + "/describeStream",
        data=json.dumps({"StreamName": "anything"}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    context = ssl.create_default_context(cafile=keys_stack.ca_bundle)
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, context=context, timeout=30)
    assert caught.value.code in (401, 403)
    assert caught.value.headers["x-amzn-ErrorType"].split(":")[0] == "NotAuthorizedException"
    body = json.loads(caught.value.read())
    assert "Traceback" not in json.dumps(body) and body.get("message")
    # And boto3 told not to sign gets the modeled exception
    client = boto3.session.Session().client(
        "kinesisvideo",
        endpoint_url=keys_stack.api_url,
        region_name=keys_stack.region,
        verify=keys_stack.ca_bundle,
        config=Config(signature_version=UNSIGNED),
    )
    refused(lambda: client.describe_stream(StreamName="anything"))


def test_wrong_secret_and_unknown_key_are_refused(keys_stack: Deployment) -> None:
    key_id = keys_stack.values["AccessKeyId"]
    wrong = sdk_client(keys_stack, "kinesisvideo", access_key=(key_id, "not-the-secret"))
    assert "signature" in refused(lambda: wrong.list_streams()).lower()
    unknown = sdk_client(keys_stack, "kinesisvideo", access_key=("SFKUNKNOWNKEY0000000", "whatever"))
    refused(lambda: unknown.list_streams())


def test_revoked_key_is_refused(keys_stack: Deployment) -> None:
    key = new_key(keys_stack, "--description", "to be revoked")
    client = sdk_client(keys_stack, "kinesisvideo", access_key=key)
    eventually(lambda: _works(client.list_streams), timeout_s=30, what="a new key was not accepted")
    keys_cli(keys_stack, "revoke", key[0])
    eventually(lambda: not _works(client.list_streams), timeout_s=30, what="a revoked key was still accepted")
    assert "revoked" in refused(lambda: client.list_streams()).lower()


def test_read_only_key_cannot_write(keys_stack: Deployment, ingested_stream: str) -> None:
    key = new_key(keys_stack, "--read-only")
    kinesisvideo = sdk_client(keys_stack, "kinesisvideo", access_key=key)
    archived = sdk_client(keys_stack, "kinesis-video-archived-media", access_key=key)
    eventually(
        lambda: _works(lambda: kinesisvideo.describe_stream(StreamName=ingested_stream)),
        timeout_s=30,
        what="a read-only key could not describe a stream",
    )
    assert archived.list_fragments(StreamName=ingested_stream)["Fragments"]
    refused(lambda: kinesisvideo.create_stream(StreamName=unique_stream("ro")))
    arn = kinesisvideo.describe_stream(StreamName=ingested_stream)["StreamInfo"]["StreamARN"]
    refused(lambda: kinesisvideo.delete_stream(StreamARN=arn))


def test_prefix_limited_key_sees_only_its_streams(
    keys_stack: Deployment, ingested_stream: str, cleanup_streams
) -> None:
    key = new_key(keys_stack, "--stream-prefix", "cam-")
    kinesisvideo = sdk_client(keys_stack, "kinesisvideo", access_key=key)
    own = unique_stream("cam-")
    eventually(
        lambda: _works(lambda: kinesisvideo.create_stream(StreamName=own)),
        timeout_s=30,
        what="a prefix-limited key could not create a stream under its prefix",
    )
    cleanup_streams.append(own)
    refused(lambda: kinesisvideo.describe_stream(StreamName=ingested_stream))
    refused(lambda: kinesisvideo.create_stream(StreamName=unique_stream("other")))
    assert kinesisvideo.describe_stream(StreamName=own)["StreamInfo"]["StreamName"] == own


def test_prefix_limited_key_cannot_name_other_streams_by_python_field_names(
    keys_stack: Deployment, ingested_stream: str
) -> None:
    # Given a cam- key, and a client that rewrites each body to name the stream by a Python field name (signed after)
    key = new_key(keys_stack, "--stream-prefix", "cam-")
    archived = sdk_client(keys_stack, "kinesis-video-archived-media", access_key=key)
    kinesisvideo = sdk_client(keys_stack, "kinesisvideo", access_key=key)
    spelled = {"name": "stream_name_given"}

    def respell(request, **_: object) -> None:
        body = json.loads(request.body or b"{}")
        body[spelled["name"]] = body.pop("StreamName")
        request.data = json.dumps(body).encode()

    for client in (archived, kinesisvideo):
        client.meta.events.register("before-sign", respell)
    for name in ("stream_name_given", "stream_name"):
        spelled["name"] = name
        # When it asks for another stream's fragments, or to tag it
        # Then the request is refused, and the stream keeps its tags
        with pytest.raises(Exception) as caught:
            archived.list_fragments(StreamName=ingested_stream)
        assert type(caught.value).__name__ in ("InvalidArgumentException", "NotAuthorizedException"), caught.value
        with pytest.raises(Exception) as caught:
            kinesisvideo.tag_stream(StreamName=ingested_stream, Tags={"owner": "attacker"})
        assert type(caught.value).__name__ in ("InvalidArgumentException", "NotAuthorizedException"), caught.value
    owner = sdk_client(keys_stack, "kinesisvideo")
    assert "owner" not in owner.list_tags_for_stream(StreamName=ingested_stream).get("Tags", {})


def _works(call) -> bool:
    try:
        call()
    except Exception as exc:  # only the refusal is expected here
        if type(exc).__name__ == "NotAuthorizedException":
            return False
        raise
    return True
