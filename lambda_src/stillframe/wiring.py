"""The composition root: ``build(settings)`` makes everything a process serves with, in one visible place.

Every entry point calls it: the Lambda handlers (``services()``, once per cold start, from the environment),
``stillframe serve`` (from its flags, with no environment writes), the CLI commands that open a store, the tests
and the bench. The process-wide infrastructure under what it builds (the S3 client, thread pools) comes from
``stillframe.resources``, ``functools.cache`` factories like ``services()`` below.
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import TYPE_CHECKING

from stillframe.catalog.fragments import FragmentIndex
from stillframe.catalog.streams import StreamCatalog
from stillframe.domain.token import TokenCodec
from stillframe.settings import Settings
from stillframe.storage.port import ObjectStore

if TYPE_CHECKING:
    from stillframe.delivery.worker import Deliveries
    from stillframe.operations.paging import Clock
    from stillframe.operations.registry import Operations

logger = logging.getLogger(__name__)


@dataclass
class Services:
    """One process's store, catalog, fragment index, token codec, image deliveries and operations over them."""

    settings: Settings
    store: ObjectStore
    clock: Clock = time.time
    streams: StreamCatalog = field(init=False)
    fragments: FragmentIndex = field(init=False)

    def __post_init__(self) -> None:
        self.streams = StreamCatalog(self.store, region=self.settings.region, account_id=self.settings.account_id)
        self.fragments = FragmentIndex(self.store)

    @cached_property
    def tokens(self) -> TokenCodec:
        """Built on first use: functions that never page (the drop-zone ingest) never read the secret."""
        return TokenCodec(_token_secret(self.settings))

    @cached_property
    def operations(self) -> Operations:
        """Every KVS operation over these services, as the routes call them."""
        from stillframe.operations.registry import Operations

        return Operations(self)

    @cached_property
    def deliveries(self) -> Deliveries:
        """Image delivery jobs (built on first use: only ingest and the process's start need them)."""
        from stillframe.delivery.worker import Deliveries

        return Deliveries(self.store, self.fragments, self.settings)


def build(settings: Settings, *, store: ObjectStore | None = None, clock: Clock = time.time) -> Services:
    """Everything over one store (``settings``' own unless given): the one way a process gets its services."""
    if store is None:
        from stillframe.storage import open_store

        store = open_store(settings)
    return Services(settings=settings, store=store, clock=clock)


def _token_secret(settings: Settings) -> bytes:
    if settings.token_secret:
        return settings.token_secret.encode()
    if settings.token_secret_arn:
        import boto3

        client = boto3.client("secretsmanager", region_name=settings.region)
        return str(client.get_secret_value(SecretId=settings.token_secret_arn)["SecretString"]).encode()
    logger.warning("no NextToken secret configured; tokens will not survive a restart")
    return secrets.token_bytes(32)


def start_background(svc: Services) -> Services:
    """Start what a long-lived process runs beside its requests: the image delivery worker (outside Lambda),
    which also resumes deliveries a crash left pending."""
    if svc.settings.delivery == "thread":  # Lambda (delivery "none") never imports the delivery package here
        svc.deliveries.start()
    return svc


@cache
def services() -> Services:
    """The Lambda entry points' services: built once per cold start from the environment's settings."""
    return start_background(build(Settings.from_env()))
