"""A full or read-only store answers clear, AWS-shaped errors, and DeleteStream still frees space on a full disk."""

from __future__ import annotations

import errno
import os
from typing import Any

import pytest

from tests.conftest import T0

LOCAL_ONLY = pytest.mark.parametrize("invoke", ["local"], indirect=True)


def fail_writes(monkeypatch: pytest.MonkeyPatch, code: int) -> None:
    """Make every file write of the local store fail as the kernel would (fsync of the temp file)."""

    def refuse(fd: int) -> None:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(os, "fsync", refuse)


def put(invoke: Any, media: bytes) -> dict[str, Any]:
    headers = {"x-amzn-stream-name": "cam", "x-amzn-producer-start-timestamp": str(T0)}
    return invoke("/putMedia", media, headers=headers)


@LOCAL_ONLY
def test_put_media_on_a_full_disk_is_a_clear_error_boto3_does_not_retry(invoke, clip_factory, monkeypatch):
    # Given a stream, and a disk that fills up
    invoke("/createStream", {"StreamName": "cam", "DataRetentionInHours": 1})
    fail_writes(monkeypatch, errno.ENOSPC)
    # When media is sent
    answer = put(invoke, clip_factory(seconds=2, fps=25, gop=50))
    # Then the answer is a modeled 4xx (not a retried 500) that says the store is full
    assert answer["status"] == 400
    assert answer["headers"]["x-amzn-ErrorType"] == "ClientLimitExceededException"
    assert "no space left" in answer["body"]["message"]


@LOCAL_ONLY
def test_a_read_only_store_answers_service_unavailable(invoke, monkeypatch):
    # Given a file system remounted read-only
    fail_writes(monkeypatch, errno.EROFS)
    # When a stream is created
    answer = invoke("/createStream", {"StreamName": "cam", "DataRetentionInHours": 1})
    # Then the answer is 503 ServiceUnavailableException naming the cause
    assert answer["status"] == 503
    assert answer["headers"]["x-amzn-ErrorType"] == "ServiceUnavailableException"
    assert "read-only" in answer["body"]["message"]


@LOCAL_ONLY
def test_delete_stream_works_on_a_full_disk(invoke, clip_factory, monkeypatch):
    # Given a stream with media, on a disk that is now full
    arn = invoke("/createStream", {"StreamName": "cam", "DataRetentionInHours": 1})["body"]["StreamARN"]
    assert put(invoke, clip_factory(seconds=4, fps=25, gop=50))["status"] == 200
    fail_writes(monkeypatch, errno.ENOSPC)
    # When the stream is deleted
    answer = invoke("/deleteStream", {"StreamARN": arn})
    # Then it succeeds, the media is gone, and the name can be looked up as not found
    assert answer["status"] == 200
    assert list(invoke.services.store.list("media/")) == []
    assert invoke("/describeStream", {"StreamName": "cam"})["status"] == 404
