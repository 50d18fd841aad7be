"""One stream's record: what CreateStream stores and DescribeStream shows, and where the stream's media lives."""

from __future__ import annotations

import functools
import json
import logging
from dataclasses import asdict, dataclass, field
from typing import Any

logger = logging.getLogger(__name__)

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
        """The record ``to_json`` stored; NotAStreamRecord for anything else found where a record should be."""
        try:
            fields = json.loads(data)
            return cls(**fields)
        except (ValueError, TypeError, RecursionError) as exc:  # not JSON, not an object, or other members
            raise NotAStreamRecord(str(exc)) from exc

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


class NotAStreamRecord(ValueError):
    """An object where a stream record should be that is none (written by something else, or damaged)."""


@functools.lru_cache(maxsize=1024)
def skip_foreign(key: str) -> None:
    """Say once per process (per key) that ``key`` is no stream record and is treated as absent, never a 500."""
    logger.warning("object among the stream records is no stream record; skipped", extra={"key": key})


def stream_arn(region: str, account_id: str, name: str, creation_ms: int) -> str:
    """The ARN KVS gives a stream created at ``creation_ms``."""
    return f"arn:aws:kinesisvideo:{region}:{account_id}:stream/{name}/{creation_ms}"
