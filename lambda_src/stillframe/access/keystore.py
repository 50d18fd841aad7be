"""The key store: Stillframe-issued SigV4 access keys, each with its limits, as one versioned JSON document.

Format (``version`` 1)::

    {"version": 1,
     "keys": [{"access_key_id": "SFAK...", "secret_access_key": "...", "created": "2026-11-26T10:00:00Z",
               "description": "lobby camera", "stream_prefixes": ["lobby-"], "read_only": false,
               "revoked": null}]}

``stream_prefixes`` null or absent means every stream; ``revoked`` is the revocation time, and a revoked key
stays listed. A store with a higher version than this code knows is refused rather than half-read.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

FORMAT_VERSION = 1
ACCESS_KEY_PREFIX = "SFAK"  # "Stillframe access key", in the shape of AWS's AKIA... IDs
ACCESS_KEY_LENGTH = 20
SECRET_LENGTH = 40
MAX_DESCRIPTION = 256
_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_SECRET_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_STREAM_PREFIX = re.compile(r"[a-zA-Z0-9_.-]{1,256}")  # the characters of a KVS stream name
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


class KeyStoreError(ValueError):
    """The key store document, or a value for it, is not valid."""


@dataclass(frozen=True)
class AccessKey:
    """One access key and what it may do."""

    access_key_id: str
    secret_access_key: str = field(repr=False)
    created: datetime
    description: str = ""
    stream_prefixes: tuple[str, ...] | None = None  # None: every stream
    read_only: bool = False
    revoked: datetime | None = None

    @property
    def active(self) -> bool:
        """Not revoked."""
        return self.revoked is None

    def covers_stream(self, stream_name: str) -> bool:
        """True if the key reaches the stream ``stream_name``."""
        prefixes = self.stream_prefixes
        return prefixes is None or any(stream_name.startswith(prefix) for prefix in prefixes)

    def to_json(self, *, with_secret: bool = True) -> dict[str, Any]:
        """The key as a store entry (or, without the secret, as ``keys list`` shows it)."""
        entry: dict[str, Any] = {"access_key_id": self.access_key_id}
        if with_secret:
            entry["secret_access_key"] = self.secret_access_key
        entry.update(
            created=format_time(self.created),
            description=self.description,
            stream_prefixes=list(self.stream_prefixes) if self.stream_prefixes is not None else None,
            read_only=self.read_only,
            revoked=format_time(self.revoked) if self.revoked else None,
        )
        return entry

    @classmethod
    def from_json(cls, entry: Any) -> AccessKey:
        """Parse one store entry; KeyStoreError saying what is wrong."""
        if not isinstance(entry, Mapping):
            raise KeyStoreError("each entry of 'keys' must be an object")
        akid = _text(entry, "access_key_id")
        try:
            prefixes = entry.get("stream_prefixes")
            return cls(
                access_key_id=akid,
                secret_access_key=_text(entry, "secret_access_key"),
                created=parse_time(_text(entry, "created")),
                description=str(entry.get("description") or ""),
                stream_prefixes=None if prefixes is None else check_prefixes(_strings(prefixes)),
                read_only=_flag(entry.get("read_only", False)),
                revoked=parse_time(entry["revoked"]) if entry.get("revoked") else None,
            )
        except KeyStoreError as exc:
            raise KeyStoreError(f"key {akid}: {exc}") from None


@dataclass(frozen=True)
class KeyStore:
    """All keys, in creation order; immutable (changes return a new store)."""

    keys: tuple[AccessKey, ...] = ()

    def find(self, access_key_id: str) -> AccessKey | None:
        """The key with this ID, revoked or not; None if there is none."""
        return next((key for key in self.keys if key.access_key_id == access_key_id), None)

    def with_key(self, key: AccessKey) -> KeyStore:
        """This store plus ``key`` (whose ID must be new)."""
        if self.find(key.access_key_id) is not None:
            raise KeyStoreError(f"access key {key.access_key_id} already exists")
        return KeyStore((*self.keys, key))

    def revoked(self, access_key_id: str, *, at: datetime) -> KeyStore:
        """This store with the key revoked at ``at`` (an already revoked key keeps its first time)."""
        key = self.find(access_key_id)
        if key is None:
            raise KeyStoreError(f"no access key {access_key_id} in the key store")
        if not key.active:
            return self
        return KeyStore(tuple(replace(k, revoked=at) if k is key else k for k in self.keys))

    @classmethod
    def single(cls, access_key_id: str, secret_access_key: str) -> KeyStore:
        """A store of one unrestricted key (``serve --access-key-id/--secret-access-key``)."""
        return cls((AccessKey(access_key_id, secret_access_key, created=datetime.now(UTC)),))

    def to_text(self) -> str:
        """The store as its JSON document."""
        document = {"version": FORMAT_VERSION, "keys": [key.to_json() for key in self.keys]}
        return json.dumps(document, indent=2) + "\n"

    @classmethod
    def from_text(cls, text: str) -> KeyStore:
        """Parse a store document; KeyStoreError saying what is wrong."""
        try:
            document = json.loads(text)
        except ValueError as exc:
            raise KeyStoreError(f"not JSON: {exc}") from None
        if not isinstance(document, Mapping):
            raise KeyStoreError("the key store must be a JSON object")
        version = document.get("version")
        if version != FORMAT_VERSION:
            raise KeyStoreError(f"unsupported key store version {version!r} (this Stillframe reads {FORMAT_VERSION})")
        entries = document.get("keys")
        if not isinstance(entries, list):
            raise KeyStoreError("'keys' must be a list")
        store = cls()
        for entry in entries:
            store = store.with_key(AccessKey.from_json(entry))
        return store


def new_key(
    *,
    description: str = "",
    stream_prefixes: Iterable[str] | None = None,
    read_only: bool = False,
    now: datetime | None = None,
) -> AccessKey:
    """A fresh random key (20-character ID ``SFAK...``, 40-character secret)."""
    if len(description) > MAX_DESCRIPTION:
        raise KeyStoreError(f"a description is at most {MAX_DESCRIPTION} characters")
    suffix = "".join(secrets.choice(_ID_ALPHABET) for _ in range(ACCESS_KEY_LENGTH - len(ACCESS_KEY_PREFIX)))
    return AccessKey(
        access_key_id=ACCESS_KEY_PREFIX + suffix,
        secret_access_key="".join(secrets.choice(_SECRET_ALPHABET) for _ in range(SECRET_LENGTH)),
        created=(now or datetime.now(UTC)).replace(microsecond=0),
        description=description,
        stream_prefixes=None if stream_prefixes is None else check_prefixes(stream_prefixes),
        read_only=read_only,
    )


def check_prefixes(prefixes: Iterable[str]) -> tuple[str, ...]:
    """Stream-name prefixes, each 1-256 stream-name characters, at least one; KeyStoreError otherwise."""
    checked = tuple(prefixes)
    if not checked:
        raise KeyStoreError("stream_prefixes must name at least one prefix (null means every stream)")
    for prefix in checked:
        if not _STREAM_PREFIX.fullmatch(prefix):
            raise KeyStoreError(f"stream prefix {prefix!r} is not 1-256 characters of a-z A-Z 0-9 _ . -")
    return checked


def format_time(moment: datetime) -> str:
    """``2026-11-26T10:00:00Z``."""
    return moment.astimezone(UTC).strftime(_TIME_FORMAT)


def parse_time(text: Any) -> datetime:
    """A store time (ISO-8601, UTC if no offset); KeyStoreError for anything else."""
    try:
        moment = datetime.fromisoformat(str(text))
    except ValueError:
        raise KeyStoreError(f"{text!r} is not an ISO-8601 time") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _text(entry: Mapping[str, Any], name: str) -> str:
    value = entry.get(name)
    if not isinstance(value, str) or not value:
        raise KeyStoreError(f"'{name}' must be a non-empty string")
    return value


def _strings(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise KeyStoreError("'stream_prefixes' must be a list of strings or null")
    return value


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise KeyStoreError("'read_only' must be true or false")
    return value
