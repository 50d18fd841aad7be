"""The settings ``stillframe serve`` runs with: the environment's ``STILLFRAME_*`` values, with the flags on top
(the store: a data directory or an S3 bucket; the NextToken secret). They are passed to ``wiring.build``; nothing
is written into the environment but Powertools' own switches, which it reads nowhere else.

The secret comes from ``--token-secret-file``, else STILLFRAME_TOKEN_SECRET (or its ARN with ``--bucket``), else
``<data-dir>/token-secret``, made on first start so tokens stay valid across restarts.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import secrets
from collections.abc import Mapping, MutableMapping
from pathlib import Path
from typing import Any

from stillframe.cli.errors import UsageError
from stillframe.settings import Settings, SettingsError

TOKEN_SECRET_FILE = "token-secret"


def quiet_powertools(env: MutableMapping[str, str]) -> None:
    """Powertools' switches, which it reads from the environment only: no EMF metrics or traces on stdout, and
    its logger at WARNING, so the per-request lines stay readable. Defaults only: a user's own values win."""
    env.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    env.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    env.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")


def serve_settings(args: argparse.Namespace, env: Mapping[str, str], *, keys_file: Path | None) -> tuple[Settings, str]:
    """The settings the flags ask for over the environment's, and where the data lives (for the banner)."""
    fields: dict[str, Any] = {}
    if args.bucket:
        fields.update(store="s3", bucket=args.bucket, prefix=args.prefix)
        location = f"s3://{args.bucket}/{args.prefix}"
        secret = _secret_from(args.token_secret_file, env, data_dir=None)
    else:
        data_dir = Path(args.data_dir).expanduser().resolve()
        try:
            data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"cannot create data directory {data_dir}: {exc.strerror or exc}") from exc
        fields.update(store="local", data_dir=str(data_dir))
        location = str(data_dir)
        secret = _secret_from(args.token_secret_file, env, data_dir=data_dir)
    if secret is not None:
        fields["token_secret"] = secret
    if keys_file is not None:  # only the flag turns keys auth on; a local file is cheap to check: changes at once
        cache_s = int(env.get("STILLFRAME_KEYS_CACHE_SECONDS", "0") or 0)
        fields.update(auth="keys", keys_file=str(keys_file), keys_secret_arn="", keys_cache_seconds=cache_s)
    else:
        fields.update(auth="none")
    try:
        settings = dataclasses.replace(Settings.from_env({**env, "STILLFRAME_AUTH": "none"}), **fields)
        settings.validate()
    except (SettingsError, ValueError) as exc:
        raise UsageError(str(exc)) from exc
    return settings, location


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
