"""Fixtures for the host executor's tests: the package on sys.path, and a full-mode LocalStack of their own.

The LocalStack is started with scripts/localstack.sh on a free port and in a temporary state directory, so it
collides neither with `make test`'s S3-only instance nor with a full-mode one someone else is running.
"""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
REPO = PACKAGE_ROOT.parent.parent
sys.path.insert(0, str(PACKAGE_ROOT))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def read_env_file(path: Path) -> dict[str, str]:
    """The `export NAME=value` lines scripts/localstack.sh writes, as a dict."""
    env = {}
    for line in path.read_text().splitlines():
        words = shlex.split(line, comments=True)
        if words[:1] == ["export"]:
            name, _, value = words[1].partition("=")
            env[name] = value
    return env


def session_processes(sid: int) -> list[str]:
    """Live processes (zombies excluded) in the session LocalStack was started in."""
    rows = subprocess.run(["ps", "-e", "-o", "pid=,sid=,stat=,args="], capture_output=True, text=True).stdout
    return [row for row in rows.splitlines() if row.split()[1] == str(sid) and not row.split()[2].startswith("Z")]


@pytest.fixture(scope="session")
def localstack_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Start `scripts/localstack.sh up full` for this session; yield the variables of its env file."""
    state = tmp_path_factory.mktemp("localstack-full")
    script_env = {**os.environ, "LOCALSTACK_STATE_DIR": str(state), "LOCALSTACK_PORT": str(_free_port())}
    script = [str(REPO / "scripts" / "localstack.sh")]
    subprocess.run([*script, "up", "full"], env=script_env, check=True, timeout=600)
    pid = int((state / "localstack.pid").read_text())
    try:
        yield read_env_file(state / "env")
    finally:
        subprocess.run([*script, "down", "full"], env=script_env, check=True, timeout=120)
    assert session_processes(pid) == [], "LocalStack or a function process outlived `down`"
