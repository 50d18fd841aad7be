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

from stillframe.catalog.keys import FragmentRecord
from stillframe.catalog.stream_record import StreamRecord
from stillframe.domain.image_generation_requests import ImageGenerationConfiguration
from stillframe.domain.stream_arn import StreamArn
from stillframe.storage.port import ObjectStore

PREFIX = "generate/"


@dataclass(frozen=True)
class DeliveryJob:
    """One tagged fragment's images to make and deliver."""

    stream_name: str
    stream_arn: str
    fragment: FragmentRecord
    configuration: ImageGenerationConfiguration

    @property
    def key(self) -> str:
        return f"{PREFIX}{self.fragment.stream}/{self.fragment.number}"

    @property
    def account_id(self) -> str:
        return StreamArn.parse(self.stream_arn).account_id

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "stream_name": self.stream_name,
                "stream_arn": self.stream_arn,
                "fragment": asdict(self.fragment),
                "configuration": self.configuration.stored(),
            },
            sort_keys=True,
        ).encode()

    @classmethod
    def from_json(cls, data: bytes) -> DeliveryJob:
        raw = json.loads(data)
        configuration = ImageGenerationConfiguration.model_validate(raw["configuration"])
        return cls(raw["stream_name"], raw["stream_arn"], FragmentRecord(**raw["fragment"]), configuration)


def write_job(
    store: ObjectStore, stream: StreamRecord, record: FragmentRecord, config: ImageGenerationConfiguration
) -> DeliveryJob:
    """Persist the job's marker (before the fragment's ack) and return the job."""
    job = DeliveryJob(stream.name, stream.arn, record, config)
    store.put(job.key, job.to_json())
    return job


def pending_jobs(store: ObjectStore) -> Iterator[str]:
    """Keys of every job marker not yet delivered, in key order."""
    for info in store.list(PREFIX):
        yield info.key
