"""One stream's record: what CreateStream stores and DescribeStream shows, and where the stream's media lives."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

ACTIVE = "ACTIVE"
DELETING = "DELETING"


@dataclass(frozen=True)
class StreamRecord:
    """A stream as DescribeStream shows it (CreationTime in epoch ms)."""

    StreamName: str
    StreamARN: str
    Version: str
    Status: str
    CreationTime: int
    DataRetentionInHours: int
    DeviceName: str | None = None
    MediaType: str | None = None
    KmsKeyId: str | None = None
    Tags: dict[str, str] = field(default_factory=dict)
    # UpdateImageGenerationConfiguration's structure as validated (wire names); None when there is none.
    ImageGenerationConfiguration: dict[str, Any] | None = None

    @property
    def media_id(self) -> str:
        """Where this stream's media lives: name plus creation time, so a re-created stream starts empty."""
        return f"{self.StreamName}/{self.CreationTime}"

    def to_json(self) -> bytes:
        """The record as stored."""
        return json.dumps(asdict(self), sort_keys=True).encode()

    @classmethod
    def from_json(cls, data: bytes) -> StreamRecord:
        """The record ``to_json`` stored."""
        return cls(**json.loads(data))

    def stream_info(self) -> dict[str, object]:
        """The StreamInfo shape of the kinesisvideo model."""
        info: dict[str, object] = {
            "StreamName": self.StreamName,
            "StreamARN": self.StreamARN,
            "Version": self.Version,
            "Status": self.Status,
            "CreationTime": self.CreationTime / 1000,
            "DataRetentionInHours": self.DataRetentionInHours,
        }
        for name in ("DeviceName", "MediaType", "KmsKeyId"):
            if getattr(self, name) is not None:
                info[name] = getattr(self, name)
        return info


def stream_arn(region: str, account_id: str, name: str, creation_ms: int) -> str:
    """The ARN KVS gives a stream created at ``creation_ms``."""
    return f"arn:aws:kinesisvideo:{region}:{account_id}:stream/{name}/{creation_ms}"
