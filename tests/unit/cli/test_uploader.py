"""The PutMedia uploader against a fake service on a real socket: headers, signing, retries, acks."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from stillframe.cli.tally import UploadTally
from stillframe.client import signing_for
from stillframe.uploader import (
    ChunkFailed,
    ChunkRejected,
    PutMediaPoster,
    PutMediaTarget,
    backoff_delay,
    upload,
)

START_MS = 1_714_564_800_000  # 2024-05-01T12:00:00Z


def run_upload(fake: Any, chunks: list[Any], *, sleeps: list[float] | None = None, **kwargs: Any) -> UploadTally:
    poster = PutMediaPoster(fake.url, signing_for(fake.url))
    target = PutMediaTarget("cam", START_MS, "RELATIVE")
    tally = UploadTally(START_MS)
    recorded = [] if sleeps is None else sleeps
    for result in upload(
        "clip.mkv", target, poster, splitter=lambda *_a, **_k: chunks, sleep=recorded.append, **kwargs
    ):
        tally.add(result)
    poster.close()
    return tally


def test_each_chunk_carries_producer_start_plus_its_offset(fake_kvs: Any, make_chunks: Any) -> None:
    # Given three chunks starting 0 s, 4 s and 8.04 s into the file
    chunks = make_chunks(0, 4000, 8040)

    # When they are uploaded with producer start 2024-05-01T12:00:00Z
    tally = run_upload(fake_kvs, chunks)

    # Then each request names the stream and starts at producer start + the chunk's offset, in order
    sent = fake_kvs.put_requests
    assert [r.headers["x-amzn-producer-start-timestamp"] for r in sent] == [
        "1714564800.000",
        "1714564804.000",
        "1714564808.040",
    ]
    assert {r.headers["x-amzn-stream-name"] for r in sent} == {"cam"}
    assert {r.headers["x-amzn-fragment-timecode-type"] for r in sent} == {"RELATIVE"}
    assert {r.headers["content-type"] for r in sent} == {"application/octet-stream"}
    assert [r.body for r in sent] == [c.data for c in chunks]
    # And every request is SigV4-signed for kinesisvideo on a loopback URL
    assert all("/us-east-1/kinesisvideo/aws4_request" in r.headers["authorization"] for r in sent)
    assert tally.persisted == 3 and tally.all_persisted
    assert (tally.first_ms, tally.end_ms) == (START_MS, START_MS + 10_040)


def test_dropped_connection_is_retried_and_the_fragment_counted_once(fake_kvs: Any, make_chunks: Any) -> None:
    # Given a service that stores the first chunk but drops the connection before answering
    fake_kvs.script = ["store-then-drop"]

    # When two chunks are uploaded
    tally = run_upload(fake_kvs, make_chunks(0, 2000))

    # Then the first chunk was sent twice, stored once, and each chunk counts one persisted fragment
    assert len(fake_kvs.put_requests) == 3
    assert len(fake_kvs.stored) == 2
    assert tally.persisted == 2 and tally.retries == 1 and tally.all_persisted


@pytest.mark.parametrize("failure", [500, 503, 429, "drop"])
def test_transient_failure_then_success(fake_kvs: Any, make_chunks: Any, failure: Any) -> None:
    # Given a service that fails once (5xx, throttling or a dropped connection)
    fake_kvs.script = [failure]
    sleeps: list[float] = []

    # When one chunk is uploaded
    tally = run_upload(fake_kvs, make_chunks(0), sleeps=sleeps)

    # Then it is retried after one backoff and persisted once
    assert len(fake_kvs.put_requests) == 2
    assert len(sleeps) == 1
    assert tally.persisted == 1 and tally.all_persisted


def test_client_error_is_final(fake_kvs: Any, make_chunks: Any) -> None:
    # Given a service answering 404 ResourceNotFoundException (unknown stream)
    fake_kvs.script = [404]

    # When chunks are uploaded
    with pytest.raises(ChunkRejected) as refused:
        run_upload(fake_kvs, make_chunks(0, 2000))

    # Then the first chunk is not retried, nothing after it is sent, and the AWS error is reported
    assert len(fake_kvs.put_requests) == 1
    assert (refused.value.status, refused.value.code, refused.value.message) == (
        404,
        "ResourceNotFoundException",
        "scripted 404",
    )


def test_gives_up_after_five_attempts_with_growing_backoff(fake_kvs: Any, make_chunks: Any) -> None:
    # Given a service that keeps failing
    fake_kvs.script = [500] * 10
    sleeps: list[float] = []

    # When a chunk is uploaded
    with pytest.raises(ChunkFailed) as failed:
        run_upload(fake_kvs, make_chunks(0), sleeps=sleeps, backoff_base_s=1.0)

    # Then it was tried five times, waiting between tries within exponential bounds
    assert len(fake_kvs.put_requests) == 5
    assert failed.value.attempts == 5 and "HTTP 500" in failed.value.reason
    assert [0.5 * 2**k <= delay <= 2**k for k, delay in enumerate(sleeps)] == [True] * 4


def test_error_acks_mean_not_everything_was_persisted(fake_kvs: Any, make_chunks: Any) -> None:
    # Given a service that refuses the second chunk's fragment with an ERROR ack
    fake_kvs.script = ["ok", "error-ack"]

    # When both are uploaded
    tally = run_upload(fake_kvs, make_chunks(0, 2000))

    # Then the upload goes on but does not count as fully persisted
    assert tally.persisted == 1 and tally.errors == 1
    assert not tally.all_persisted


def test_oversized_chunk_is_sent_alone_with_a_warning(
    fake_kvs: Any, make_chunks: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a chunk bigger than the request limit (one huge GOP)
    chunks = make_chunks(0, 2000)

    # When uploaded with a limit below its size
    with caplog.at_level(logging.WARNING, logger="stillframe.uploader"):
        tally = run_upload(fake_kvs, chunks, max_chunk_bytes=len(chunks[0].data) - 1)

    # Then it is still sent, and the user is warned
    assert tally.persisted == 2
    assert any("larger than the request limit" in r.getMessage() for r in caplog.records)


def test_backoff_is_capped() -> None:
    # Given many failed attempts / When the delay is computed / Then it never exceeds the cap
    assert backoff_delay(20, 0.5) <= 8.0
