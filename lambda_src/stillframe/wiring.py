"""Build the services once per process (cold start) from validated settings, and hand them to routes."""

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
    settings: Settings
    store: ObjectStore
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
        """Every KVS operation over these services (``operations_over``), built once."""
        return operations_over(self)

    @cached_property
    def deliveries(self) -> Deliveries:
        """Image delivery jobs (built on first use: only ingest and the process's start need them)."""
        from stillframe.delivery.worker import Deliveries

        return Deliveries(self.store, self.fragments, self.settings)


def build_services(settings: Settings, store: ObjectStore | None = None) -> Services:
    """Wire the catalog, index and token codec over one store."""
    if store is None:
        from stillframe.storage import open_store

        store = open_store(settings)
    return Services(settings=settings, store=store)


def _token_secret(settings: Settings) -> bytes:
    if settings.token_secret:
        return settings.token_secret.encode()
    if settings.token_secret_arn:
        import boto3

        client = boto3.client("secretsmanager", region_name=settings.region)
        return str(client.get_secret_value(SecretId=settings.token_secret_arn)["SecretString"]).encode()
    logger.warning("no NextToken secret configured; tokens will not survive a restart")
    return secrets.token_bytes(32)


@cache
def services() -> Services:
    """The process-wide services, built on first use from the environment.

    Outside Lambda this also starts the image delivery worker, which resumes deliveries a crash left pending.
    """
    svc = build_services(Settings.from_env())
    if svc.settings.delivery == "thread":  # Lambda (delivery "none") never imports the delivery package here
        svc.deliveries.start()
    return svc


def operations(settings: Settings, *, store: ObjectStore | None = None, clock: Clock = time.time) -> Operations:
    """Every KVS operation over one store, built from ``settings`` (tests build them so, without the environment)."""
    return operations_over(build_services(settings, store), clock=clock)


def operations_over(svc: Services, *, clock: Clock = time.time) -> Operations:
    """The operations over already-built services (their store, catalog, index and token codec)."""
    from stillframe.operations.registry import Operations

    return Operations(
        store=svc.store,
        streams=svc.streams,
        fragments=svc.fragments,
        token_codec=lambda: svc.tokens,
        region=svc.settings.region,
        public_url=svc.settings.public_url,
        time_budget_ms=svc.settings.time_budget_ms,
        clock=clock,
        delivery_jobs=lambda: svc.deliveries,
    )
