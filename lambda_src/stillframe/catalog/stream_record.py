"""One stream's record: what CreateStream stores and DescribeStream shows, where its media lives, and its rules.

The record is typed and snake_case inside; the wire's PascalCase appears only at the edges: ``stream_info()``
(DescribeStream's StreamInfo), and ``to_json``/``from_json``, whose stored format (the StreamInfo member names,
CreationTime in epoch ms, the image generation configuration in its wire form) is unchanged from earlier releases.
"""

from __future__ import annotations

import functools
import json
import logging
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pydantic import ValidationError

from stillframe.catalog.keys import FragmentRecord
from stillframe.domain.image_generation_requests import ImageGenerationConfiguration
from stillframe.domain.stream_arn import StreamArn
from stillframe.errors import NoDataRetentionError

logger = logging.getLogger(__name__)

HOUR_MS = 3_600_000


class StreamStatus(StrEnum):
    """The statuses a stored stream has (CREATING and UPDATING never last here: writes are immediate)."""

    ACTIVE = "ACTIVE"
    DELETING = "DELETING"


ACTIVE = StreamStatus.ACTIVE
DELETING = StreamStatus.DELETING


@dataclass(frozen=True)
class StreamRecord:
    """A stream as stored (creation time in epoch ms)."""

    name: str
    arn: str
    version: str
    status: StreamStatus
    creation_ms: int
    retention_hours: int
    device_name: str | None = None
    media_type: str | None = None
    kms_key_id: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    image_generation: ImageGenerationConfiguration | None = None

    @property
    def media_id(self) -> str:
        """Where this stream's media lives: name plus creation time, so a re-created stream starts empty."""
        return f"{self.name}/{self.creation_ms}"

    # --- retention -------------------------------------------------------------------------------------------

    def require_retention(self, why: str) -> None:
        """NoDataRetentionError when the stream keeps no media (retention 0); ``why`` says what needed it."""
        if self.retention_hours == 0:
            raise NoDataRetentionError(
                f"The stream {self.name} has no data retention (DataRetentionInHours is 0): {why}"
            )

    def retains(self, fragment: FragmentRecord, *, now_ms: int) -> bool:
        """Whether the fragment is still within the stream's retention (read time hides it before expiry)."""
        return fragment.server_ms + self.retention_hours * HOUR_MS >= now_ms

    def retention_cutoff(self, now_ms: int) -> int:
        """The earliest server time a retained fragment can start at."""
        return max(0, now_ms - self.retention_hours * HOUR_MS)

    @property
    def enabled_image_generation(self) -> ImageGenerationConfiguration | None:
        """The image generation configuration when it is ENABLED, else None."""
        config = self.image_generation
        return config if config is not None and config.status == "ENABLED" else None

    # --- wire and storage forms --------------------------------------------------------------------------------

    def stream_info(self) -> dict[str, object]:
        """The StreamInfo shape of the kinesisvideo model."""
        info: dict[str, object] = {
            "StreamName": self.name,
            "StreamARN": self.arn,
            "Version": self.version,
            "Status": str(self.status),
            "CreationTime": self.creation_ms / 1000,
            "DataRetentionInHours": self.retention_hours,
        }
        for member, value in (
            ("DeviceName", self.device_name),
            ("MediaType", self.media_type),
            ("KmsKeyId", self.kms_key_id),
        ):
            if value is not None:
                info[member] = value
        return info

    def to_stored(self) -> dict[str, Any]:
        """The record as a JSON object, in the stored format."""
        return {
            "StreamName": self.name,
            "StreamARN": self.arn,
            "Version": self.version,
            "Status": str(self.status),
            "CreationTime": self.creation_ms,
            "DataRetentionInHours": self.retention_hours,
            "DeviceName": self.device_name,
            "MediaType": self.media_type,
            "KmsKeyId": self.kms_key_id,
            "Tags": dict(self.tags),
            "ImageGenerationConfiguration": None if self.image_generation is None else self.image_generation.stored(),
        }

    def to_json(self) -> bytes:
        """The record as stored."""
        return json.dumps(self.to_stored(), sort_keys=True).encode()

    @classmethod
    def from_stored(cls, stored: dict[str, Any]) -> StreamRecord:
        """The record of a ``to_stored`` object; NotAStreamRecord for any other object."""
        try:
            return cls(
                name=_text(stored["StreamName"]),
                arn=_text(stored["StreamARN"]),
                version=_text(stored["Version"]),
                status=StreamStatus(stored["Status"]),
                creation_ms=_whole(stored["CreationTime"]),
                retention_hours=_whole(stored["DataRetentionInHours"]),
                device_name=stored.get("DeviceName"),
                media_type=stored.get("MediaType"),
                kms_key_id=stored.get("KmsKeyId"),
                tags={str(key): str(value) for key, value in (stored.get("Tags") or {}).items()},
                image_generation=_configuration(stored.get("ImageGenerationConfiguration"), stored["StreamName"]),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise NotAStreamRecord(f"{type(exc).__name__}: {exc}") from exc

    @classmethod
    def from_json(cls, data: bytes) -> StreamRecord:
        """The record ``to_json`` stored; NotAStreamRecord for anything else found where a record should be."""
        try:
            stored = json.loads(data)
        except (ValueError, RecursionError) as exc:  # not JSON (UnicodeDecodeError is a ValueError)
            raise NotAStreamRecord(str(exc)) from exc
        if not isinstance(stored, dict):
            raise NotAStreamRecord("not a JSON object")
        return cls.from_stored(stored)


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected text, not {type(value).__name__}")
    return value


def _whole(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"expected an integer, not {type(value).__name__}")
    return value


def _configuration(stored: object, stream: object) -> ImageGenerationConfiguration | None:
    """The stored configuration; one the rules no longer accept (stored before a rule was added) is set aside."""
    if stored is None:
        return None
    try:
        return ImageGenerationConfiguration.model_validate(stored)
    except ValidationError as exc:
        logger.warning(
            "stored image generation configuration is no longer valid; ignored until it is set again",
            extra={"stream": stream, "reason": str(exc.errors()[0].get("msg", ""))},
        )
        return None


class NotAStreamRecord(ValueError):
    """An object where a stream record should be that is none (written by something else, or damaged)."""


@functools.lru_cache(maxsize=1024)
def skip_foreign(key: str) -> None:
    """Say once per process (per key) that ``key`` is no stream record and is treated as absent, never a 500."""
    logger.warning("object among the stream records is no stream record; skipped", extra={"key": key})


def stream_arn(region: str, account_id: str, name: str, creation_ms: int) -> str:
    """The ARN KVS gives a stream created at ``creation_ms``."""
    return str(StreamArn.of_stream(region, account_id, name, creation_ms))
