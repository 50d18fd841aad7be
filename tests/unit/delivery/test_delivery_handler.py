"""The delivery function over the local store: SQS messages deliver their jobs, failures come back one by one.

Events are the JSON fixtures under tests/events/ (an SQS event source batch, an EventBridge schedule), with the
job keys the ingest really wrote. The queue is a fake that records what ingest and the sweep send.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from stillframe.delivery.queue import SWEEP_MIN_AGE_MS, SqsJobQueue, job_key, message_body
from stillframe.domain.image_generation_requests import ImageGenerationConfiguration
from stillframe.handlers.delivery import lambda_handler
from stillframe.ingest.service import UploadClock, store_fragments
from stillframe.media.split import iter_fragments
from stillframe.settings import Settings, SettingsError
from stillframe.wiring import Services, build
from tests.conftest import T0, FakeContext

EVENTS = Path(__file__).resolve().parents[2] / "events"
BUCKET = "images-bucket"
CONFIG = {
    "Status": "ENABLED",
    "ImageSelectorType": "PRODUCER_TIMESTAMP",
    "DestinationConfig": {"Uri": f"s3://{BUCKET}/cam", "DestinationRegion": "us-east-1"},
    "SamplingInterval": 1000,
    "Format": "JPEG",
}


class RecordingQueue:
    """A delivery queue that keeps the keys it was told about, checking that each marker exists by then."""

    def __init__(self, store: Any, *, fail: bool = False) -> None:
        self.store, self.fail = store, fail
        self.sent: list[str] = []

    def notify(self, key: str) -> None:
        self.store.head(key)  # the marker is written before anyone hears of it
        if self.fail:
            raise ConnectionError("SQS unreachable")
        self.sent.append(key)


class BrokenSink:
    def put(self, *_: Any, **__: Any) -> None:
        raise PermissionError("AccessDenied")


@pytest.fixture
def svc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Services:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    services = build(Settings(store="local", data_dir=str(tmp_path / "data"), delivery="none"))
    services.deliveries.queue = RecordingQueue(services.store)
    return services


@pytest.fixture
def ingest(svc: Services, clip_factory: Callable[..., bytes]) -> Callable[..., list[str]]:
    """Ingest a tagged 3 s clip into an ENABLED stream; the job keys written, in order."""

    def run(stream_name: str = "cam", received_ms: int | None = None) -> list[str]:
        stream = svc.streams.create(stream_name, retention_hours=24)
        stream = dataclasses.replace(stream, image_generation=ImageGenerationConfiguration.model_validate(CONFIG))
        clip = clip_factory(seconds=3, fps=10, gop=10)
        clock = UploadClock(received_ms=received_ms or int(time.time() * 1000), producer_start_ms=T0 * 1000)
        before = set(markers(svc))
        store_fragments(stream, iter_fragments(clip, image_generation=True), clock, svc.fragments, svc.deliveries)
        return sorted(set(markers(svc)) - before)

    return run


def sqs_event(keys: list[str], *bodies: str) -> dict[str, Any]:
    """The fixture's SQS batch with one record per job key (plus raw bodies), each with its own message id."""
    event = json.loads((EVENTS / "sqs_delivery_event.json").read_text())
    [template] = event["Records"]
    event["Records"] = []
    for n, body in enumerate([message_body(key) for key in keys] + list(bodies)):
        record = copy.deepcopy(template)
        record["messageId"], record["body"] = f"message-{n}", body
        event["Records"].append(record)
    return event


def markers(svc: Services) -> list[str]:
    return [info.key for info in svc.store.list("generate/")]


def delivered(tmp_path: Path) -> list[Path]:
    root = tmp_path / "data" / "delivered" / BUCKET / "cam"
    return sorted(root.glob("*.jpg")) if root.exists() else []


def test_ingest_tells_the_queue_about_each_marker_after_writing_it(svc: Services, ingest: Any) -> None:
    # Given an ENABLED stream, When a tagged clip is ingested
    ingest()
    # Then every marker written was sent to the queue, once, after it existed (RecordingQueue checks)
    assert svc.deliveries.queue.sent == markers(svc)  # type: ignore[union-attr]
    assert len(markers(svc)) >= 1


def test_a_queue_outage_does_not_fail_the_ingest_and_keeps_the_markers(svc: Services, ingest: Any) -> None:
    # Given a queue that cannot be reached
    svc.deliveries.queue = RecordingQueue(svc.store, fail=True)
    # When a tagged clip is ingested, Then the fragments are acked and their markers wait for the sweep
    ingest()
    assert markers(svc) and svc.fragments is not None


def test_each_message_delivers_its_job_and_removes_its_marker(svc: Services, ingest: Any, tmp_path: Path) -> None:
    # Given the markers of a 3 s tagged clip sampled every second
    ingest()
    keys = markers(svc)
    # When the queue's batch of their messages reaches the function
    response = lambda_handler(sqs_event(keys), FakeContext(), svc=svc)  # type: ignore[arg-type]
    # Then nothing is reported failed, one image per second is in the destination, and no job is left
    assert response == {"batchItemFailures": []}
    assert len(delivered(tmp_path)) == 3
    assert markers(svc) == []
    # And a duplicate message (SQS delivers at least once) is a no-op
    assert lambda_handler(sqs_event(keys), FakeContext(), svc=svc) == {"batchItemFailures": []}  # type: ignore[arg-type]
    assert len(delivered(tmp_path)) == 3


def test_only_the_failed_messages_are_reported_and_their_markers_stay(
    svc: Services, ingest: Any, tmp_path: Path
) -> None:
    # Given jobs whose destination refuses writes, and one message that names no job
    ingest()
    keys = markers(svc)
    svc.deliveries.deliverer.sink = BrokenSink()
    event = sqs_event(keys[:1], '{"job": "media/cam/not-a-job"}')
    # When the batch is handled
    response = lambda_handler(event, FakeContext(), svc=svc)  # type: ignore[arg-type]
    # Then both messages come back (redelivered, then dead-lettered), the job's marker is still there
    assert response == {"batchItemFailures": [{"itemIdentifier": "message-0"}, {"itemIdentifier": "message-1"}]}
    assert markers(svc) == keys
    # And once the destination is fixed, the redelivered message delivers
    svc.deliveries.deliverer.sink = build(svc.settings, store=svc.store).deliveries.deliverer.sink
    assert lambda_handler(sqs_event(keys), FakeContext(), svc=svc) == {"batchItemFailures": []}  # type: ignore[arg-type]
    assert delivered(tmp_path) and markers(svc) == []


def test_one_bad_message_does_not_redeliver_the_rest_of_the_batch(svc: Services, ingest: Any, tmp_path: Path) -> None:
    ingest()
    keys = markers(svc)
    response = lambda_handler(sqs_event(keys, "not json"), FakeContext(), svc=svc)  # type: ignore[arg-type]
    assert response == {"batchItemFailures": [{"itemIdentifier": f"message-{len(keys)}"}]}
    assert markers(svc) == [] and len(delivered(tmp_path)) == 3


def test_the_schedule_sweeps_markers_older_than_an_hour_back_into_the_queue(svc: Services, ingest: Any) -> None:
    # Given the markers of an upload received two hours ago (its messages lost), and of one received now
    old = int(time.time() * 1000) - 2 * SWEEP_MIN_AGE_MS
    old_keys = ingest("old-cam", received_ms=old)
    ingest("new-cam")
    svc.deliveries.queue = queue = RecordingQueue(svc.store)
    # When the scheduled event arrives
    event = json.loads((EVENTS / "scheduled_sweep_event.json").read_text())
    counts = lambda_handler(event, FakeContext(), svc=svc)  # type: ignore[arg-type]
    # Then only the old markers are queued again; the new ones' messages are still on their way
    assert queue.sent == old_keys and old_keys
    assert counts == {
        "pending": len(markers(svc)),
        "queued": len(old_keys),
        "not_queued": 0,
        "deleted_streams_purged": 0,
    }


def test_the_schedule_finishes_deleting_the_media_a_delete_stream_left(svc: Services, ingest: Any) -> None:
    # Given a stream deleted with no time to delete its media (its purge record stays)
    ingest("old-cam")
    record = svc.streams.find("old-cam")
    assert svc.streams.delete(record.arn, budget_s=0) is False
    assert list(svc.store.list(f"media/{record.media_id}/"))
    svc.deliveries.queue = RecordingQueue(svc.store)
    # When the scheduled event arrives
    event = json.loads((EVENTS / "scheduled_sweep_event.json").read_text())
    counts = lambda_handler(event, FakeContext(), svc=svc)  # type: ignore[arg-type]
    # Then the stream's media and its purge record are gone
    assert counts["deleted_streams_purged"] == 1
    assert not list(svc.store.list(f"media/{record.media_id}/"))
    assert not list(svc.store.list("purge/"))


def test_the_sweep_needs_the_queue(svc: Services) -> None:
    svc.deliveries.queue = None
    event = json.loads((EVENTS / "scheduled_sweep_event.json").read_text())
    with pytest.raises(SettingsError, match="STILLFRAME_DELIVERY_QUEUE_URL"):
        lambda_handler(event, FakeContext(), svc=svc)  # type: ignore[arg-type]


def test_the_lambda_handler_builds_its_services_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the delivery function's environment over an empty local store
    from stillframe.wiring import services

    for name, value in {
        "STILLFRAME_STORE": "local",
        "STILLFRAME_DATA_DIR": str(tmp_path / "data"),
        "STILLFRAME_DELIVERY": "none",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)
    services.cache_clear()
    try:
        # When a message names a job already delivered, Then it succeeds (a no-op)
        response = lambda_handler(sqs_event(["generate/cam/1795600800000/179560080000000000000000"]), FakeContext())  # type: ignore[arg-type]
    finally:
        services.cache_clear()
    assert response == {"batchItemFailures": []}


def test_the_sqs_queue_sends_one_message_naming_the_marker() -> None:
    client = boto3.client("sqs", region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
    url = "https://sqs.us-east-1.amazonaws.com/123456789012/jobs"
    with Stubber(client) as stub:
        expected = {"QueueUrl": url, "MessageBody": '{"job": "generate/cam/1"}'}
        stub.add_response("send_message", {"MessageId": "m-1"}, expected)
        SqsJobQueue(url, region="us-east-1", client=client).notify("generate/cam/1")
        stub.assert_no_pending_responses()


@pytest.mark.parametrize("body", ["", "[]", '{"job": 1}', '{"job": "media/cam/1"}', '{"job": "generate/cam"}'])
def test_messages_that_name_no_job_are_refused(body: str) -> None:
    with pytest.raises(ValueError, match="not a delivery job"):
        job_key(body)


def test_the_queue_url_setting_is_read_once_and_checked() -> None:
    url = "https://sqs.us-east-1.amazonaws.com/123456789012/jobs"
    assert Settings.from_env({"STILLFRAME_DELIVERY_QUEUE_URL": url}).delivery_queue_url == url
    assert Settings.from_env({}).delivery_queue_url == ""
    with pytest.raises(SettingsError, match="STILLFRAME_DELIVERY_QUEUE_URL"):
        Settings.from_env({"STILLFRAME_DELIVERY_QUEUE_URL": "jobs"})
