"""Run one scenario in this (fresh) process and print its result as one JSON line.

``bench.run`` starts one worker per scenario under ``taskset``, so scenarios never share caches, pools or
peak memory. The worker reports its own peak RSS (``VmHWM``, the high-water mark of its own address space):
``ru_maxrss`` from ``wait4`` would also hold the peak of the process that started it, because Linux keeps the
replaced address space's high-water mark through ``exec`` and Python starts children with ``vfork``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.fixtures import StreamFixture, load_fixtures
from bench.scenarios import Scenario, sample_times

Runner = Callable[[Scenario, StreamFixture, list[int]], dict[str, Any]]


def runners() -> dict[str, Runner]:
    """Method name -> function measuring it (imported lazily: a worker loads only what its method needs)."""
    from bench import limit, peers, stillframe_runs

    return {
        "engine": stillframe_runs.run_engine,
        "engine-s3sim": stillframe_runs.run_engine,
        "serve": stillframe_runs.run_serve,
        "cold": stillframe_runs.run_cold,
        "import": stillframe_runs.run_import,
        "ffmpeg": peers.run_ffmpeg,
        "ffmpeg-mt": peers.run_ffmpeg,
        "naive": peers.run_naive,
        "limit": limit.run_limit,
    }


def main(argument: str) -> None:
    """Measure the scenario given as JSON and print the result."""
    scenario = Scenario(**json.loads(argument))
    fixture = load_fixtures()[scenario.stream]
    samples = sample_times(scenario, fixture)
    result = runners()[scenario.method](scenario, fixture, samples)
    print(json.dumps({"samples": len(samples), **result, "own_peak_rss_mb": own_peak_rss_mb()}))


def own_peak_rss_mb() -> float | None:
    """This process's peak RSS in MB (``VmHWM``), or None where /proc does not say."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024  # kB
    return None


if __name__ == "__main__":
    main(sys.argv[1])
