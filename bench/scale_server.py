"""``python -m bench.scale_server serve ...``: `stillframe serve` that counts the S3 requests it sends (bench only).

With ``STILLFRAME_BENCH_S3_REQUESTS=FILE`` every HTTP request the store's S3 client sends (botocore's
``before-send`` event: one per attempt, retries included) appends its operation name as a line to FILE, so
``bench.scale`` counts the requests a call caused by the lines it added. Nothing of this is in the package.
"""

from __future__ import annotations

import os
import sys
from typing import Any

COUNTER_ENV = "STILLFRAME_BENCH_S3_REQUESTS"


def install(path: str) -> None:
    """Count every request of the S3 clients ``stillframe.resources`` makes from now on."""
    import stillframe.resources as s3

    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    make_client = s3.s3_client

    def count(event_name: str = "", **_: Any) -> None:
        os.write(fd, (event_name.rsplit(".", 1)[-1] + "\n").encode())  # one write: lines never interleave

    def counted_client(*args: Any, **kwargs: Any) -> Any:
        client = make_client(*args, **kwargs)
        client.meta.events.register("before-send.s3", count, unique_id="bench-scale-counter")
        return client

    s3.s3_client = counted_client


if __name__ == "__main__":
    if os.environ.get(COUNTER_ENV):
        install(os.environ[COUNTER_ENV])
    from stillframe.cli.main import main

    sys.exit(main(sys.argv[1:]))
