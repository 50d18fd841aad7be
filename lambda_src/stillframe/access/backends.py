"""Where the key store lives: a local JSON file (``stillframe serve``) or a Secrets Manager secret (AWS).

Both read and replace the whole document. The file is written atomically (temp file, fsync, rename) with mode
0600 and changed under an exclusive lock, so two ``stillframe keys`` commands never lose each other's key.
Secrets Manager has no compare-and-set, so two simultaneous edits of one secret may race (the last one wins).
``CachedKeys`` keeps a loaded store for a warm process: a revocation takes effect within its TTL.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

from stillframe.access.keystore import AccessKey, KeyStore, KeyStoreError

logger = logging.getLogger(__name__)


class KeyStoreUnavailable(Exception):
    """The key store cannot be read or written (missing permission, unreachable service, broken document)."""


class KeyBackend(Protocol):
    """A place that holds one key store document."""

    where: str

    def load(self) -> KeyStore:
        """The current store."""

    def update(self, change: Callable[[KeyStore], KeyStore]) -> KeyStore:
        """Replace the store with ``change(current)``; return the new store."""


class KeyFile:
    """The key store as a JSON file; a missing file is an empty store (it is created on the first change)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.where = str(path)
        self._seen: tuple[tuple[int, int, int], KeyStore] | None = None

    def load(self) -> KeyStore:
        """The store; re-parsed only when the file changed since the last load."""
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return KeyStore()
        except OSError as exc:
            raise KeyStoreUnavailable(f"cannot read {self.path}: {exc.strerror or exc}") from exc
        signature = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        if self._seen is not None and self._seen[0] == signature:
            return self._seen[1]
        store = self._read()
        self._seen = (signature, store)
        return store

    def update(self, change: Callable[[KeyStore], KeyStore]) -> KeyStore:
        """Apply ``change`` under an exclusive lock and install the result atomically, mode 0600."""
        with self._locked():
            store = change(self._read())
            self._write(store.to_text())
        return store

    def _read(self) -> KeyStore:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return KeyStore()
        except OSError as exc:
            raise KeyStoreUnavailable(f"cannot read {self.path}: {exc.strerror or exc}") from exc
        try:
            return KeyStore.from_text(text)
        except KeyStoreError as exc:
            raise KeyStoreUnavailable(f"{self.path} is not a valid key store: {exc}") from exc

    def _write(self, text: str) -> None:
        fd, temp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:  # mkstemp creates it 0600
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            lock = os.open(self.path.with_name(self.path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise KeyStoreUnavailable(f"cannot write {self.path}: {exc.strerror or exc}") from exc
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield
        finally:
            os.close(lock)


class SecretsManagerKeys:
    """The key store as a Secrets Manager secret's SecretString (boto3; honours ``AWS_ENDPOINT_URL``)."""

    def __init__(self, secret_arn: str, *, region: str | None = None, client: Any = None) -> None:
        self.secret_arn = secret_arn
        self.where = secret_arn
        self._region = region
        self._client = client

    def load(self) -> KeyStore:
        """The store in the secret's current version."""
        try:
            text = self._secrets().get_secret_value(SecretId=self.secret_arn)["SecretString"]
        except Exception as exc:  # botocore's errors: no permission, no such secret, no network
            raise KeyStoreUnavailable(f"cannot read secret {self.secret_arn}: {exc}") from exc
        try:
            return KeyStore.from_text(text)
        except KeyStoreError as exc:
            raise KeyStoreUnavailable(f"secret {self.secret_arn} is not a valid key store: {exc}") from exc

    def update(self, change: Callable[[KeyStore], KeyStore]) -> KeyStore:
        """Put ``change(current)`` as the secret's new current version."""
        store = change(self.load())
        try:
            self._secrets().put_secret_value(SecretId=self.secret_arn, SecretString=store.to_text())
        except Exception as exc:
            raise KeyStoreUnavailable(f"cannot write secret {self.secret_arn}: {exc}") from exc
        return store

    def _secrets(self) -> Any:
        if self._client is None:
            import boto3  # only keys-mode functions and the keys CLI pay for it

            self._client = boto3.client("secretsmanager", region_name=self._region)
        return self._client


class CachedKeys:
    """Key lookups over a backend, reloading the store at most every ``ttl_s`` seconds; safe across threads.

    When a reload fails the last good store is kept for another TTL, so a Secrets Manager hiccup does not lock
    every client out; with no store loaded yet the failure propagates.
    """

    def __init__(self, backend: KeyBackend, *, ttl_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.backend = backend
        self.ttl_s = ttl_s
        self._clock = clock
        self._lock = threading.Lock()
        self._store: KeyStore | None = None
        self._loaded_at = 0.0

    def find(self, access_key_id: str) -> AccessKey | None:
        """The key with this ID from a store at most ``ttl_s`` old."""
        return self.current().find(access_key_id)

    def current(self) -> KeyStore:
        """The cached store, reloaded when older than the TTL."""
        with self._lock:
            now = self._clock()
            if self._store is None or now - self._loaded_at >= self.ttl_s:
                try:
                    self._store = self.backend.load()
                except KeyStoreUnavailable as exc:
                    if self._store is None:
                        raise
                    logger.warning("key store reload failed; keeping the last one", extra={"reason": str(exc)})
                self._loaded_at = now
            return self._store
