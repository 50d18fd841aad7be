"""A stream's ARN, ``arn:<partition>:kinesisvideo:<region>:<account>:<type>/<name>/<creation ms>``, parsed once."""

from __future__ import annotations

from dataclasses import dataclass

STREAM_RESOURCE = "stream"


@dataclass(frozen=True)
class StreamArn:
    """The parts of a KVS resource ARN (a stream's, or another resource type's such as a signaling channel)."""

    partition: str
    region: str
    account_id: str
    resource_type: str
    name: str
    creation_ms: str

    @classmethod
    def parse(cls, text: str) -> StreamArn:
        """The parts of ``text``; ValueError when it is not shaped like a KVS resource ARN."""
        fields = text.split(":", 5)
        if len(fields) != 6 or fields[0] != "arn" or fields[2] != "kinesisvideo":
            raise ValueError(f"not a Kinesis Video Streams ARN: {text!r}")
        resource = fields[5].split("/")
        if len(resource) != 3 or not all(resource):
            raise ValueError(f"not a Kinesis Video Streams resource ARN: {text!r}")
        return cls(fields[1], fields[3], fields[4], resource[0], resource[1], resource[2])

    @classmethod
    def of_stream(cls, region: str, account_id: str, name: str, creation_ms: int) -> StreamArn:
        """The ARN KVS gives a stream created at ``creation_ms``."""
        return cls("aws", region, account_id, STREAM_RESOURCE, name, str(creation_ms))

    @property
    def is_stream(self) -> bool:
        return self.resource_type == STREAM_RESOURCE

    def __str__(self) -> str:
        return (
            f"arn:{self.partition}:kinesisvideo:{self.region}:{self.account_id}:"
            f"{self.resource_type}/{self.name}/{self.creation_ms}"
        )
