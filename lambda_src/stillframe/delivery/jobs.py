"""Delivery jobs as durable markers in the object store: ``generate/<media id>/<fragment number>``.

The marker is written after the fragment is stored and before its ack, and deleted after its images are
delivered, so a job is never lost between the two: a process that dies in between leaves the marker, and the next
worker to start resumes it. The body holds what delivery needs without reading the stream record again, including
the configuration as it was when the fragment arrived.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

from stillframe.catalog.keys import FragmentRecord
from stillframe.catalog.stream_record import StreamRecord
from stillframe.storage.port import ObjectStore

PREFIX = "generate/"


@dataclass(frozen=True)
class DeliveryJob:
    """One tagged fragment's images to make and deliver."""

    stream_name: str
    stream_arn: str
    fragment: FragmentRecord
    configuration: dict[str, Any]

    @property
    def key(self) -> str:
        return f"{PREFIX}{self.fragment.stream}/{self.fragment.number}"

    @property
    def account_id(self) -> str:
        return self.stream_arn.split(":")[4]

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "stream_name": self.stream_name,
                "stream_arn": self.stream_arn,
                "fragment": asdict(self.fragment),
                "configuration": self.configuration,
            },
            sort_keys=True,
        ).encode()

    @classmethod
    def from_json(cls, data: bytes) -> DeliveryJob:
        raw = json.loads(data)
        return cls(raw["stream_name"], raw["stream_arn"], FragmentRecord(**raw["fragment"]), raw["configuration"])


def enabled_configuration(stream: StreamRecord) -> dict[str, Any] | None:
    """The stream's image generation configuration when it is ENABLED, else None."""
    config = stream.ImageGenerationConfiguration
    return config if config is not None and config.get("Status") == "ENABLED" else None


def write_job(store: ObjectStore, stream: StreamRecord, record: FragmentRecord, config: dict[str, Any]) -> DeliveryJob:
    """Persist the job's marker (before the fragment's ack) and return the job."""
    job = DeliveryJob(stream.StreamName, stream.StreamARN, record, config)
    store.put(job.key, job.to_json())
    return job


def pending_jobs(store: ObjectStore) -> Iterator[str]:
    """Keys of every job marker not yet delivered, in key order."""
    for info in store.list(PREFIX):
        yield info.key
