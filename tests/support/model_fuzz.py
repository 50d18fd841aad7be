"""Requests generated from the botocore service models: every operation, valid-ish and invalid values per member.

Each member gets a value chosen by its shape type and constraints (length, range, enum, pattern): mostly values
the model allows, sometimes values at or just past its limits, of the wrong type, or hostile (deep nesting, huge
integers, far-future times). PutMedia is not in a model (it is a streaming call); it is fuzzed through its headers.
A fixed seed makes every failure reproducible.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import botocore.session
from botocore.model import Shape

SERVICES = ("kinesisvideo", "kinesis-video-archived-media", "kinesis-video-media")
KNOWN_STREAMS = ("fuzz-a", "fuzz-b")  # created before fuzzing, so valid names often reach real streams
_NAME_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-"
_HOSTILE_STRINGS = ("", " ", "../../etc/passwd", "é✓\u0000", "\ud800", "a/b", "%2F", "<script>", "\r\nX-Injected: 1")
_HOSTILE_VALUES: tuple[Any, ...] = (None, True, -1, 0, 2**63, 1e308, [], {}, [1, "a"], {"a": {"b": []}})


@dataclass(frozen=True)
class FuzzRequest:
    """One request to send: operation name, path, headers and the raw body."""

    operation: str
    path: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


class ModelFuzzer:
    """Yields ``FuzzRequest`` round-robin over every operation of the three KVS models, plus PutMedia."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        session = botocore.session.get_session()
        self.operations = [
            session.get_service_model(service).operation_model(name)
            for service in SERVICES
            for name in session.get_service_model(service).operation_names
        ]

    def requests(self, count: int) -> Iterator[FuzzRequest]:
        """``count`` requests, every operation in turn, PutMedia among them."""
        for number in range(count):
            slot = number % (len(self.operations) + 1)
            if slot == len(self.operations):
                yield self._put_media()
                continue
            operation = self.operations[slot]
            body = self._structure(operation.input_shape, depth=0) if operation.input_shape else {}
            yield FuzzRequest(operation.name, operation.http["requestUri"], self._encode(body))

    def _encode(self, body: dict[str, Any]) -> bytes:
        roll = self.rng.random()
        if roll < 0.02:
            return b"[" * 100_000 + b"]" * 100_000  # nesting deeper than any parser's recursion
        if roll < 0.04:
            return b'{"MaxResults": ' + b"9" * 5000 + b"}"  # past Python's int conversion limit
        if roll < 0.05:
            return self.rng.choice([b"", b"{", b"null", b"\xff\xfe", b'"x"', b"{}" * 50])
        return json.dumps(body, allow_nan=True).encode("utf-8", "surrogatepass")

    def _value(self, shape: Shape, depth: int) -> Any:
        if self.rng.random() < 0.08:
            return self.rng.choice(_HOSTILE_VALUES)
        kind = shape.type_name
        if kind == "structure":
            return self._structure(shape, depth + 1) if depth < 4 else {}
        if kind == "list":
            size = self.rng.choice([0, 1, 2, 3, int(shape.metadata.get("max", 3)) + 1])
            return [self._value(shape.member, depth + 1) for _ in range(min(size, 60))]
        if kind == "map":
            return {self._string(shape.key): self._value(shape.value, depth + 1) for _ in range(self.rng.randint(0, 3))}
        if kind == "string":
            return self._string(shape)
        if kind in ("integer", "long"):
            return self._integer(shape)
        if kind == "timestamp":
            return self._timestamp()
        if kind == "boolean":
            return self.rng.choice([True, False, "true", 1])
        if kind == "blob":
            return self.rng.choice(["AAAA", "not base64!", ""])
        return None

    def _structure(self, shape: Shape, depth: int) -> dict[str, Any]:
        members = list(shape.members.items())
        chosen = [item for item in members if item[0] in shape.required_members or self.rng.random() < 0.5]
        return {name: self._value(member, depth) for name, member in chosen if self.rng.random() > 0.03}

    def _string(self, shape: Shape) -> Any:
        if shape.enum:
            return self.rng.choice([*shape.enum, *shape.enum, "junk", shape.enum[0].lower()])
        low, high = int(shape.metadata.get("min", 0)), int(shape.metadata.get("max", 256))
        name = shape.name.lower()
        roll = self.rng.random()
        if "streamname" in name or name == "resourcename":
            if roll < 0.3:
                return self.rng.choice(KNOWN_STREAMS)
            if roll < 0.5:
                return "s" * self.rng.choice([high - 5, high - 1, high, high + 1])  # 251..257: the limits
        if "arn" in name and roll < 0.3:
            stream = self.rng.choice(KNOWN_STREAMS)
            return f"arn:aws:kinesisvideo:us-east-1:000000000000:stream/{stream}/{self.rng.randint(0, 2**41)}"
        if roll < 0.15:
            return self.rng.choice(_HOSTILE_STRINGS)
        if roll < 0.25:
            return "x" * self.rng.choice([max(low - 1, 0), high, high + 1, min(high * 4, 20_000)])
        length = self.rng.randint(max(low, 1), max(low, min(high, 40)))
        return "".join(self.rng.choice(_NAME_CHARS) for _ in range(length))

    def _integer(self, shape: Shape) -> Any:
        low = shape.metadata.get("min", 0)
        high = shape.metadata.get("max", 2**31 - 1)
        return self.rng.choice([low, high, low - 1, high + 1, self.rng.randint(low, high), 2**31, -(2**63), 1.5, "7"])

    def _timestamp(self) -> Any:
        return self.rng.choice(
            [
                1_795_600_800,
                1_795_600_800.123,
                -5,
                10**10,  # 2286-11-20: past the index's fixed width
                253_402_300_800,  # year 10000
                1e300,
                float("nan"),
                "2026-11-25T10:00:00Z",
                "2026-13-45T99:99:99Z",
                "x" * 200,
            ]
        )

    def _put_media(self) -> FuzzRequest:
        headers = {
            "x-amzn-stream-name": self.rng.choice([*KNOWN_STREAMS, "", "nope", "s" * 256, "a b"]),
            "x-amzn-fragment-timecode-type": self.rng.choice(["ABSOLUTE", "RELATIVE", "relative", "junk"]),
            "x-amzn-producer-start-timestamp": self.rng.choice(["1795600800", "-1", "1e400", "nan", "10000000000"]),
            "Content-Type": "application/octet-stream",
        }
        body = self.rng.choice([b"", b"\x1a\x45\xdf\xa3" + b"\x00" * 64, b"junk" * 100, bytes(range(256))])
        return FuzzRequest("PutMedia", "/putMedia", body, headers)
