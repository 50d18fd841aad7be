"""`StillframeServer` run in-process on a free loopback port with an injected handler, for tests of the HTTP layer."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from stillframe.server import StillframeServer

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


@contextmanager
def in_process_servers() -> Iterator[Callable[..., StillframeServer]]:
    """Yield ``start(handler, **server_kwargs)``; every server it started is stopped (if it was not) at exit."""
    running: list[tuple[StillframeServer, threading.Thread]] = []

    def start(handler: Handler, **kwargs: Any) -> StillframeServer:
        server = StillframeServer(("127.0.0.1", 0), handler, **kwargs)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        running.append((server, thread))
        return server

    try:
        yield start
    finally:
        for server, thread in running:
            if not server.stopping:
                server.stop()
            thread.join()
