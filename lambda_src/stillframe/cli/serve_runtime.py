"""What ``stillframe serve`` runs once it listens: the server on a worker thread until SIGINT or SIGTERM, and one
background sweep of crash leftovers over the handler's store."""

from __future__ import annotations

import signal
import sys
import threading
import time

from stillframe.server import StillframeServer
from stillframe.wiring import Services


def start_leftover_sweep(svc: Services) -> threading.Thread:
    """Once, in the background: what ``stillframe reindex`` does for crash leftovers (pending writes older than an
    hour, media of deleted streams), over the store the handler uses; one line when done."""

    def sweep() -> None:
        from stillframe.catalog.repair import sweep_leftovers

        started = time.monotonic()
        try:
            report = sweep_leftovers(svc.store, svc.streams, now_ms=int(time.time() * 1000))
        except Exception as exc:  # a sweep that fails must not stop serving; reindex can do it later
            print(f"warning: start-up sweep of crash leftovers failed: {exc}", file=sys.stderr, flush=True)
            return
        pending = report.pending
        print(
            f"start-up sweep: {report.streams} streams in {time.monotonic() - started:.1f} s; interrupted writes "
            f"finished {pending.pending_finished}, undone {pending.pending_undone}, left in flight "
            f"{pending.pending_in_flight}; deleted streams' media finished {report.deleted_streams_purged}",
            flush=True,
        )

    thread = threading.Thread(target=sweep, name="stillframe-sweep", daemon=True)
    thread.start()
    return thread


def serve_until_signalled(server: StillframeServer, poll_s: float = 0.2) -> None:
    """Serve on a worker thread until SIGINT or SIGTERM, then stop cleanly (in-flight requests finish)."""
    signalled: list[int] = []  # the handler only appends: taking a lock inside a signal handler can deadlock
    previous = {
        sig: signal.signal(sig, lambda sig, _: signalled.append(sig)) for sig in (signal.SIGINT, signal.SIGTERM)
    }
    worker = threading.Thread(target=server.serve_forever, name="stillframe-serve", daemon=True)
    worker.start()
    try:
        while not signalled and worker.is_alive():
            time.sleep(poll_s)
    finally:
        server.stop()
        worker.join()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
