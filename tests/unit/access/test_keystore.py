"""The key store model and its versioned JSON document."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest

from stillframe.access.keystore import KeyStore, KeyStoreError, new_key

T = datetime(2026, 11, 26, 10, 0, 0, tzinfo=UTC)


def test_new_keys_look_like_aws_keys_and_are_unique() -> None:
    keys = [new_key() for _ in range(50)]
    for key in keys:
        assert re.fullmatch(r"SFAK[A-Z2-7]{16}", key.access_key_id)
        assert len(key.secret_access_key) == 40 and key.active and key.stream_prefixes is None
    assert len({key.access_key_id for key in keys}) == 50
    assert len({key.secret_access_key for key in keys}) == 50


def test_round_trip_keeps_every_field() -> None:
    # Given a store with an unrestricted key and a limited, revoked one
    open_key = new_key(description="all of it", now=T)
    limited = new_key(description="lobby viewer", stream_prefixes=["lobby-", "hall"], read_only=True, now=T)
    store = KeyStore().with_key(open_key).with_key(limited).revoked(limited.access_key_id, at=T)

    # When it is written and read back
    text = store.to_text()
    again = KeyStore.from_text(text)

    # Then nothing is lost, and the document has the documented shape
    assert again == store
    document = json.loads(text)
    assert document["version"] == 1
    assert document["keys"][1] == {
        "access_key_id": limited.access_key_id,
        "secret_access_key": limited.secret_access_key,
        "created": "2026-11-26T10:00:00Z",
        "description": "lobby viewer",
        "stream_prefixes": ["lobby-", "hall"],
        "read_only": True,
        "revoked": "2026-11-26T10:00:00Z",
    }


def test_the_initial_secret_value_is_an_empty_store() -> None:
    assert KeyStore.from_text('{"version": 1, "keys": []}') == KeyStore()


def test_revoking_twice_keeps_the_first_time_and_unknown_keys_are_named() -> None:
    key = new_key(now=T)
    once = KeyStore((key,)).revoked(key.access_key_id, at=T)
    later = datetime(2027, 1, 1, tzinfo=UTC)
    assert once.revoked(key.access_key_id, at=later).keys[0].revoked == T
    with pytest.raises(KeyStoreError, match="no access key SFAKNOPE"):
        once.revoked("SFAKNOPE", at=T)


def test_the_secret_is_not_in_the_repr() -> None:
    key = new_key()
    assert key.secret_access_key not in repr(key) and key.access_key_id in repr(key)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("nope", "not JSON"),
        ("[]", "must be a JSON object"),
        ('{"version": 2, "keys": []}', "unsupported key store version 2"),
        ('{"keys": []}', "unsupported key store version None"),
        ('{"version": 1, "keys": {}}', "'keys' must be a list"),
        ('{"version": 1, "keys": [1]}', "must be an object"),
        ('{"version": 1, "keys": [{"access_key_id": "A"}]}', "key A: 'secret_access_key'"),
        ('{"version": 1, "keys": [{"access_key_id": "A", "secret_access_key": "s", "created": "x"}]}', "ISO-8601"),
    ],
)
def test_broken_documents_say_what_is_wrong(text: str, expected: str) -> None:
    with pytest.raises(KeyStoreError, match=re.escape(expected)):
        KeyStore.from_text(text)


def test_duplicate_ids_and_bad_limits_are_refused() -> None:
    entry = new_key(now=T).to_json()
    with pytest.raises(KeyStoreError, match="already exists"):
        KeyStore.from_text(json.dumps({"version": 1, "keys": [entry, entry]}))
    for bad in ([], ["a/b"], [""], "lobby"):
        broken = {**entry, "stream_prefixes": bad}
        with pytest.raises(KeyStoreError):
            KeyStore.from_text(json.dumps({"version": 1, "keys": [broken]}))
    with pytest.raises(KeyStoreError, match="read_only"):
        KeyStore.from_text(json.dumps({"version": 1, "keys": [{**entry, "read_only": "yes"}]}))


def test_stream_coverage_is_by_prefix() -> None:
    key = new_key(stream_prefixes=["lobby-", "hall"])
    assert key.covers_stream("lobby-1") and key.covers_stream("hallway")
    assert not key.covers_stream("lobby") and not key.covers_stream("garage")
    assert new_key().covers_stream("anything")
