"""The process-wide infrastructure, made on first use and kept for the life of the process (warm invocations,
every request of ``stillframe serve``): the S3 client and the thread pools. One idiom: a ``functools.cache``
factory per resource, here and nowhere else.

A factory's first call may race with another thread's; the loser's object is made and dropped, which for these
is harmless (an executor and a boto3 client start nothing until used; the decode workers are first asked for by a
page, after the process is up). What must exist once per name (the stream record locks) is guarded where it lives.
Objects of one server or one set of services (serve's handler pool, a key cache, the token codec) are not here:
they belong to what builds them. This module imports nothing of stillframe outside this package, and boto3 only
when the client is first asked for, so any layer may use it and a cold start pays only for what it touches.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stillframe.resources.workers import Workers

S3_CONNECTIONS = 32  # the S3 client's connection pool
RECORD_READERS = S3_CONNECTIONS  # ListStreams' concurrent record reads, one connection each
FETCH_THREADS = 8  # GetImages' concurrent fragment fetches and demuxes


@cache
def s3_client(endpoint_url: str | None = None, region: str | None = None) -> Any:
    """The S3 client for this endpoint and region (boto3 clients are thread-safe; sessions are not, so it gets a
    session of its own). ``None`` lets boto3 resolve them the standard way (``AWS_ENDPOINT_URL``, ``AWS_REGION``...).
    """
    import boto3
    from botocore.config import Config

    config = Config(retries={"mode": "standard"}, max_pool_connections=S3_CONNECTIONS)
    return boto3.session.Session().client("s3", endpoint_url=endpoint_url, region_name=region, config=config)


@cache
def record_readers() -> ThreadPoolExecutor:
    """The threads ListStreams reads stream records on."""
    return ThreadPoolExecutor(max_workers=RECORD_READERS, thread_name_prefix="stream-records")


@cache
def fetch_pool() -> ThreadPoolExecutor:
    """The threads GetImages fetches and demuxes fragments on (I/O bound; they queue decodes on the workers)."""
    return ThreadPoolExecutor(max_workers=FETCH_THREADS, thread_name_prefix="fetch")


@cache
def decode_workers() -> Workers:
    """GetImages' CPU workers, one per usable core, with the allocator set to keep freed picture buffers."""
    from stillframe.resources.memory import keep_freed_buffers
    from stillframe.resources.workers import Workers, usable_cpus

    keep_freed_buffers()
    return Workers(usable_cpus())
