"""Unmodified boto3 clients against `stillframe serve` with SigV4 auth and throttling on, as API Gateway does them.

One real server process with a key pair and a tight rate (1 request per second, burst 2): the right key works,
a wrong secret raises ``NotAuthorizedException``, a quick burst raises ``ClientLimitExceededException``, for both
the ``kinesisvideo`` and the ``kinesis-video-archived-media`` client.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from stillframe.client import clients
from tests.support.serve import running_serve

AKID = "AKIDSERVETEST"
SECRET = "serve-test-secret"
RATE, BURST = 1, 2
REGION = "eu-west-1"  # any region is accepted
NO_RETRY = Config(retries={"max_attempts": 1})
START = datetime(2026, 11, 26, 10, 0, 0, tzinfo=UTC)
T = TypeVar("T")


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[str]]]:
    """A real `stillframe serve` with both checks on (secret from the environment); yields (URL, banner lines)."""
    data_dir = tmp_path_factory.mktemp("serve-guarded")
    args = ("--data-dir", str(data_dir), "--access-key-id", AKID, "--rate-limit", str(RATE), "--burst", str(BURST))
    with running_serve(*args, env={"STILLFRAME_SERVE_SECRET_ACCESS_KEY": SECRET}) as started:
        yield started


@pytest.fixture(scope="module")
def url(guarded: tuple[str, list[str]]) -> str:
    return guarded[0]


def client(service: str, url: str, *, secret: str = SECRET) -> Any:
    return boto3.client(
        service,
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id=AKID,
        aws_secret_access_key=secret,
        config=NO_RETRY,
    )


def patiently(call: Callable[[], T]) -> T:
    """``call()``, waiting out throttling as boto3's retries would (retries are off to see every answer)."""
    for _ in range(10):
        try:
            return call()
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ClientLimitExceededException":
                raise
            time.sleep(1 / RATE)
    raise AssertionError("still throttled after 10 s")


def get_images(archived: Any, stream: str) -> Any:
    end = START + timedelta(seconds=1)
    return archived.get_images(
        StreamName=stream,
        ImageSelectorType="PRODUCER_TIMESTAMP",
        StartTimestamp=START,
        EndTimestamp=end,
        SamplingInterval=500,
        Format="JPEG",
    )


@pytest.fixture(scope="module")
def stream(url: str) -> str:
    """A stream with retention (so GetImages answers NO_MEDIA rather than an error), made with the right key."""
    patiently(lambda: client("kinesisvideo", url).create_stream(StreamName="guarded", DataRetentionInHours=1))
    return "guarded"


def test_banner_names_the_key_and_the_limits_not_the_secret(guarded: tuple[str, list[str]]) -> None:
    text = "\n".join(guarded[1])
    assert f"access key {AKID}" in text and "1 request per second, burst 2" in text
    assert SECRET not in text


def test_right_key_works_for_both_clients(url: str, stream: str) -> None:
    # Given clients signed with the server's key pair
    kinesisvideo = client("kinesisvideo", url)

    # When they describe the stream, find its data endpoint and ask it for images
    info = patiently(lambda: kinesisvideo.describe_stream(StreamName=stream))["StreamInfo"]
    endpoint = patiently(lambda: kinesisvideo.get_data_endpoint(StreamName=stream, APIName="GET_IMAGES"))
    archived = client("kinesis-video-archived-media", endpoint["DataEndpoint"])
    images = patiently(lambda: get_images(archived, stream))["Images"]

    # Then every call is served
    assert info["StreamName"] == stream and info["DataRetentionInHours"] == 1
    assert [image["Error"] for image in images] == ["NO_MEDIA"] * 3


def test_execute_api_signatures_work_too(url: str, stream: str) -> None:
    # Given clients that sign for execute-api, as for the deployed API
    session = boto3.Session(aws_access_key_id=AKID, aws_secret_access_key=SECRET, region_name=REGION)
    control, _ = clients(url, session=session, signing_name="execute-api")

    # When one describes the stream / Then it is served
    assert patiently(lambda: control.describe_stream(StreamName=stream))["StreamInfo"]["StreamName"] == stream


@pytest.mark.parametrize("service", ["kinesisvideo", "kinesis-video-archived-media"])
def test_wrong_secret_raises_not_authorized(url: str, stream: str, service: str) -> None:
    # Given a client with the right access key but the wrong secret
    wrong = client(service, url, secret="not-the-secret")
    call = (
        (lambda: wrong.describe_stream(StreamName=stream))
        if service == "kinesisvideo"
        else (lambda: get_images(wrong, stream))
    )

    # When it calls / Then boto3 raises the modeled NotAuthorizedException
    with pytest.raises(wrong.exceptions.NotAuthorizedException) as refused:
        patiently(call)
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert "signature we calculated does not match" in refused.value.response["Error"]["Message"]


@pytest.mark.parametrize("service", ["kinesisvideo", "kinesis-video-archived-media"])
def test_a_quick_burst_raises_client_limit_exceeded(url: str, stream: str, service: str) -> None:
    # Given a signed client
    signed = client(service, url)
    call = (
        (lambda: signed.describe_stream(StreamName=stream))
        if service == "kinesisvideo"
        else (lambda: get_images(signed, stream))
    )

    # When it makes 5 calls at once, more than a burst of 2 at 1 per second allows
    # Then boto3 raises the modeled ClientLimitExceededException, with the 429 that makes retrying SDKs back off
    with pytest.raises(signed.exceptions.ClientLimitExceededException) as throttled:
        for _ in range(5):
            call()
    assert throttled.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
