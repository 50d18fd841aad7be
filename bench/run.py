"""``python -m bench.run``: measure the whole matrix, print the table and the targets, write the results.

Each scenario runs in its own worker process pinned with ``taskset`` (``-c 0`` for one core, ``-c 0,1`` for
two), so pools, caches and peak memory never leak between scenarios. Results go to
``bench/results/latest.json`` (commit this one) and a timestamped copy; the table in ``docs/performance.md``
is rewritten between its markers after a full run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import report, targets
from bench.scenarios import Scenario, build_matrix

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
WORKER_TIMEOUT_S = 900
IN_WORKER = ("engine", "naive")  # methods whose work happens in the worker process itself


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; exit status 1 when a scenario failed or returned wrong frames."""
    args = _parser().parse_args(argv)
    matrix = [
        s
        for s in build_matrix(quick=args.quick)
        if (not args.only or any(o in s.name for o in args.only))
        and (not args.methods or s.method in args.methods.split(","))
    ]
    if args.list:
        print("\n".join(s.name for s in matrix))
        return 0
    if shutil.which("ffmpeg") is None:
        print("bench: the ffmpeg CLI is missing (make bench installs it)", file=sys.stderr)
        return 2
    started = time.monotonic()
    _ensure_fixtures()
    machine = report.machine()
    results = []
    for number, scenario in enumerate(matrix, 1):
        result = _run_worker(scenario, args.src.resolve())
        results.append((scenario, result))
        _progress(number, len(matrix), scenario, result, time.monotonic() - started)
    rows = report.make_rows(results)
    verdicts = targets.judge(rows)
    markdown = report.table(rows)
    print(markdown)
    print()
    print(targets.summary(verdicts))
    payload = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": args.quick,
        "only": args.only,
        "methods": args.methods,
        "src": _repo_relative(args.src),
        "duration_s": round(time.monotonic() - started, 1),
        "machine": machine,
        "targets": verdicts,
        "rows": rows,
    }
    stamp = payload["when"].replace(":", "").replace("-", "")
    report.write_results(RESULTS / f"{stamp}.json", payload)
    if not args.only and not args.methods and args.src.resolve() == (ROOT / "lambda_src").resolve():
        report.write_results(RESULTS / "latest.json", payload)
        if not args.no_docs:
            report.update_docs(_docs_block(payload, markdown, verdicts))
    failed = [row for row in rows if row.get("error") or not row.get("verified", True)]
    return 1 if failed else 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="one repetition per scenario (same matrix)")
    parser.add_argument("--only", action="append", metavar="TEXT", help="only scenarios whose name contains TEXT")
    parser.add_argument("--methods", metavar="M,M", help="only these methods (e.g. engine,limit,ffmpeg)")
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    parser.add_argument("--no-docs", action="store_true", help="do not rewrite the table in docs/performance.md")
    parser.add_argument(
        "--src",
        type=Path,
        default=ROOT / "lambda_src",
        help="directory holding the stillframe package to measure (e.g. an older version, for before/after)",
    )
    return parser


def _ensure_fixtures() -> None:
    """Check, or generate, the fixtures in a child process.

    Generating leaves a process over 1 GB (the 4K clip); done here, every worker started afterwards would inherit
    that peak in its ``ru_maxrss`` (``bench.worker``), and the serve and peer rows read theirs with ``wait4``.
    """
    subprocess.run(
        [sys.executable, "-m", "bench.fixtures"], cwd=ROOT, stdin=subprocess.DEVNULL, stdout=sys.stderr, check=True
    )


def _run_worker(scenario: Scenario, src: Path) -> dict[str, Any]:
    """One scenario in a pinned worker process; the worker reports its own peak RSS (see ``bench.worker``)."""
    cpus = "0" if scenario.cores == 1 else ",".join(str(c) for c in range(scenario.cores))
    command = ["taskset", "-c", cpus, sys.executable, "-m", "bench.worker", json.dumps(scenario.to_json())]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(src)])}
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        timer = threading.Timer(WORKER_TIMEOUT_S, process.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            timer.cancel()
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    if process.returncode != 0:
        tail = stderr.strip().splitlines()[-3:]
        return {"error": " | ".join(tail) or f"exit {process.returncode}", "images": 0}
    result: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    own = result.pop("own_peak_rss_mb", None)
    if scenario.method in IN_WORKER:  # ru_maxrss only where /proc is missing: it also holds this process's peak
        result.setdefault("peak_rss_mb", own if own is not None else usage.ru_maxrss / 1024)
    return result


def _progress(number: int, total: int, scenario: Scenario, result: dict[str, Any], elapsed: float) -> None:
    walls = result.get("wall_s") or []
    figure = f"{min(walls):.3f} s" if walls else result.get("error", "?")
    check = "" if result.get("verified", True) else "  WRONG FRAMES"
    print(f"[{number}/{total} {elapsed:5.0f} s] {scenario.name}: {figure}{check}", file=sys.stderr, flush=True)


def _docs_block(payload: dict[str, Any], markdown: str, verdicts: list[dict[str, Any]]) -> str:
    machine = payload["machine"]
    head = (
        f"Run {payload['when']} ({'quick' if payload['quick'] else 'full'}, {payload['duration_s']:.0f} s) on "
        f"{machine['cpu']}, {machine['cpus']} CPUs, {machine['memory_gb']} GB, {machine['os']}; Python "
        f"{machine['python']}, PyAV {machine['pyav']} (libavcodec {machine['pyav_ffmpeg']}), "
        f"{machine['ffmpeg_cli']}; load average at start {machine['load_average_at_start'][0]:.2f}."
    )
    return f"{head}\n\n{markdown}\n\nTargets:\n\n{targets.summary(verdicts)}"


def _repo_relative(path: Path) -> str:
    """The source tree measured, relative to the repo when inside it (results are committed: no machine paths)."""
    resolved = path.resolve()
    return str(resolved.relative_to(ROOT)) if resolved.is_relative_to(ROOT) else resolved.name


if __name__ == "__main__":
    sys.exit(main())
