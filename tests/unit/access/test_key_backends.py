"""Where keys live: the local file (atomic, 0600, locked, re-read on change), Secrets Manager, the TTL cache."""

from __future__ import annotations

import os
import stat
import threading
import uuid
from pathlib import Path
from typing import Any

import pytest

from stillframe.access.backends import CachedKeys, KeyFile, KeyStoreUnavailable, SecretsManagerKeys
from stillframe.access.keystore import KeyStore, new_key


def test_a_missing_file_is_an_empty_store_and_the_first_change_creates_it_0600(tmp_path: Path) -> None:
    # Given no file yet
    keys = KeyFile(tmp_path / "sub" / "keys.json")
    assert keys.load() == KeyStore()

    # When a key is added
    key = new_key()
    keys.update(lambda store: store.with_key(key))

    # Then the file exists, only its owner can read it, and it holds the key
    mode = stat.S_IMODE(os.stat(keys.path).st_mode)
    assert mode == 0o600
    assert KeyFile(keys.path).load().find(key.access_key_id) == key
    assert [p.name for p in keys.path.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_a_changed_file_is_read_again(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    reader, writer = KeyFile(path), KeyFile(path)
    first, second = new_key(), new_key()
    writer.update(lambda store: store.with_key(first))
    assert reader.load().find(second.access_key_id) is None
    writer.update(lambda store: store.with_key(second))
    assert reader.load().find(second.access_key_id) == second


def test_concurrent_updates_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    made = [new_key() for _ in range(16)]
    threads = [threading.Thread(target=KeyFile(path).update, args=(lambda s, k=k: s.with_key(k),)) for k in made]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {k.access_key_id for k in KeyFile(path).load().keys} == {k.access_key_id for k in made}


def test_a_broken_file_is_unavailable_saying_where(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    path.write_text('{"version": 9, "keys": []}')
    with pytest.raises(KeyStoreUnavailable, match=r"keys.json is not a valid key store: unsupported"):
        KeyFile(path).load()


class _Backend:
    """A backend whose store the test swaps, counting loads."""

    where = "memory"

    def __init__(self) -> None:
        self.store = KeyStore()
        self.loads = 0
        self.broken = False

    def load(self) -> KeyStore:
        self.loads += 1
        if self.broken:
            raise KeyStoreUnavailable("down")
        return self.store

    def update(self, change: Any) -> KeyStore:
        self.store = change(self.store)
        return self.store


def test_the_cache_reloads_only_after_its_ttl() -> None:
    # Given a cache of 10 s over a backend, and a clock the test moves
    now = [100.0]
    backend = _Backend()
    cache = CachedKeys(backend, ttl_s=10, clock=lambda: now[0])
    key = new_key()
    assert cache.find(key.access_key_id) is None

    # When a key is added / Then it is not seen until the TTL has passed
    backend.update(lambda store: store.with_key(key))
    now[0] += 9.9
    assert cache.find(key.access_key_id) is None and backend.loads == 1
    now[0] += 0.1
    assert cache.find(key.access_key_id) == key and backend.loads == 2


def test_the_cache_keeps_the_last_store_when_a_reload_fails() -> None:
    now = [0.0]
    backend = _Backend()
    key = new_key()
    backend.update(lambda store: store.with_key(key))
    cache = CachedKeys(backend, ttl_s=1, clock=lambda: now[0])
    assert cache.find(key.access_key_id) == key
    backend.broken = True
    now[0] += 5
    assert cache.find(key.access_key_id) == key
    with pytest.raises(KeyStoreUnavailable):
        CachedKeys(backend, ttl_s=1).find(key.access_key_id)


@pytest.mark.localstack
def test_secrets_manager_round_trip_on_localstack(localstack_s3: Any) -> None:
    # Given a secret holding the initial (empty) store, on LocalStack via AWS_ENDPOINT_URL
    import boto3

    client = boto3.client("secretsmanager", region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
    arn = client.create_secret(
        Name=f"stillframe-keys-{uuid.uuid4().hex[:8]}", SecretString='{"version": 1, "keys": []}'
    )["ARN"]
    try:
        keys = SecretsManagerKeys(arn)  # its own boto3 client, which honours AWS_ENDPOINT_URL
        assert keys.load() == KeyStore()

        # When a key is added and another revoked
        first, second = new_key(), new_key()
        keys.update(lambda store: store.with_key(first).with_key(second))
        keys.update(lambda store: store.revoked(second.access_key_id, at=second.created))

        # Then a fresh reader sees both, the second revoked
        store = SecretsManagerKeys(arn).load()
        assert store.find(first.access_key_id) == first
        found = store.find(second.access_key_id)
        assert found is not None and found.revoked == second.created
    finally:
        client.delete_secret(SecretId=arn, ForceDeleteWithoutRecovery=True)


def test_an_unreachable_secret_is_unavailable_without_a_traceback() -> None:
    class Refusing:
        def get_secret_value(self, **_: Any) -> Any:
            raise ConnectionError("no route to host")

    with pytest.raises(KeyStoreUnavailable, match="cannot read secret arn:x: no route to host"):
        SecretsManagerKeys("arn:x", client=Refusing()).load()
