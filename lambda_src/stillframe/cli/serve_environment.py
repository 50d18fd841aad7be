"""The environment ``stillframe serve`` writes for the handler, which reads its settings at import (a Lambda cold
start): the store (a data directory or an S3 bucket), Powertools kept quiet, and the NextToken secret.

The secret comes from ``--token-secret-file``, else STILLFRAME_TOKEN_SECRET (or its ARN with ``--bucket``), else
``<data-dir>/token-secret``, made on first start so tokens stay valid across restarts.
"""

from __future__ import annotations

import argparse
import os
import secrets
from collections.abc import Mapping, MutableMapping
from pathlib import Path

from stillframe.cli.errors import UsageError

TOKEN_SECRET_FILE = "token-secret"


def prepare_environment(args: argparse.Namespace, env: MutableMapping[str, str]) -> str:
    """Write the handler's settings into ``env``; return where the data lives, for the banner."""
    env.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    env["POWERTOOLS_TRACE_DISABLED"] = "true"
    env.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")  # keeps the per-request lines readable
    if args.bucket:
        env.update(STILLFRAME_STORE="s3", STILLFRAME_BUCKET=args.bucket, STILLFRAME_PREFIX=args.prefix)
        location = f"s3://{args.bucket}/{args.prefix}"
        secret = _secret_from(args.token_secret_file, env, data_dir=None)
    else:
        data_dir = Path(args.data_dir).expanduser().resolve()
        try:
            data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"cannot create data directory {data_dir}: {exc.strerror or exc}") from exc
        env.update(STILLFRAME_STORE="local", STILLFRAME_DATA_DIR=str(data_dir))
        location = str(data_dir)
        secret = _secret_from(args.token_secret_file, env, data_dir=data_dir)
    if secret is not None:
        env["STILLFRAME_TOKEN_SECRET"] = secret
    return location


def ensure_token_secret(path: Path) -> str:
    """Read the NextToken secret at ``path``, creating a random one (mode 0600) if the file does not exist.

    Tokens stay valid across restarts because the secret does.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return read_token_secret(path)
    secret = secrets.token_urlsafe(32)
    with os.fdopen(fd, "w") as handle:
        handle.write(secret + "\n")
    return secret


def read_token_secret(path: Path) -> str:
    """The secret in ``path`` (surrounding whitespace dropped); UsageError if unreadable or empty."""
    try:
        secret = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise UsageError(f"cannot read token secret {path}: {exc.strerror or exc}") from exc
    if not secret:
        raise UsageError(f"token secret file {path} is empty (delete it to have a new one made)")
    return secret


def _secret_from(secret_file: Path | None, env: Mapping[str, str], *, data_dir: Path | None) -> str | None:
    if secret_file is not None:
        return read_token_secret(secret_file)
    if env.get("STILLFRAME_TOKEN_SECRET"):
        return None  # the user's own secret is already in place
    if data_dir is not None:
        return ensure_token_secret(data_dir / TOKEN_SECRET_FILE)
    if env.get("STILLFRAME_TOKEN_SECRET_ARN"):
        return None
    raise UsageError("with --bucket, give --token-secret-file or set STILLFRAME_TOKEN_SECRET")
