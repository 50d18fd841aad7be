"""PutMedia's acknowledgements: one JSON object per fragment, as KVS streams them back."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class AckEvent(StrEnum):
    """An ack's ``EventType``: KVS's values. A whole-body PutMedia gets PERSISTED or ERROR per fragment; a streaming
    session also BUFFERING when a fragment starts, RECEIVED when it is complete, and IDLE while nothing arrives."""

    BUFFERING = "BUFFERING"
    RECEIVED = "RECEIVED"
    PERSISTED = "PERSISTED"
    ERROR = "ERROR"
    IDLE = "IDLE"


@dataclass(frozen=True)
class FragmentAck:
    """The ack of one fragment: stored under ``number``, or refused with a KVS error id and a sentence."""

    event_type: AckEvent
    timecode: int
    number: str | None = None
    error_id: int | None = None
    error_message: str | None = None

    @classmethod
    def persisted(cls, timecode: int, number: str) -> FragmentAck:
        return cls(AckEvent.PERSISTED, timecode, number=number)

    @classmethod
    def event(cls, event_type: AckEvent, timecode: int) -> FragmentAck:
        """A BUFFERING, RECEIVED or IDLE ack (no fragment number yet)."""
        return cls(event_type, timecode)

    @classmethod
    def error(cls, timecode: int, error_id: int, message: str) -> FragmentAck:
        return cls(AckEvent.ERROR, timecode, error_id=error_id, error_message=message)

    @property
    def is_persisted(self) -> bool:
        return self.event_type is AckEvent.PERSISTED

    def to_json(self) -> dict[str, Any]:
        """The wire object: EventType, FragmentTimecode, then FragmentNumber or ErrorId and ErrorMessage."""
        entry: dict[str, Any] = {"EventType": str(self.event_type), "FragmentTimecode": self.timecode}
        if self.number is not None:
            entry["FragmentNumber"] = self.number
        if self.error_id is not None:
            entry["ErrorId"] = self.error_id
            entry["ErrorMessage"] = self.error_message
        return entry


def is_persisted(ack: dict[str, Any]) -> bool:
    """Whether a received ack (as the service sent it, kept verbatim by clients) says PERSISTED."""
    return ack.get("EventType") == AckEvent.PERSISTED


def is_error(ack: dict[str, Any]) -> bool:
    return ack.get("EventType") == AckEvent.ERROR
