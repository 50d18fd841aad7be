"""What ``stillframe serve`` puts in front of the handler, as API Gateway does on AWS: SigV4 with one key pair and
a token bucket (the request gate), or "keys" auth checked by the handler against a key store file; and the start-up
lines that say which is on.

The secret of ``--access-key-id`` comes from a file, the flag or the environment, in that order.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, MutableMapping
from pathlib import Path

from stillframe.access.backends import KeyFile, KeyStoreUnavailable
from stillframe.access.keystore import KeyStore
from stillframe.cli.errors import UsageError
from stillframe.server import RequestGate, SigV4Verifier, TokenBucket, default_burst
from stillframe.server.site import OPEN_PATHS

ACCESS_KEY_ENV = "STILLFRAME_SERVE_ACCESS_KEY_ID"
SECRET_KEY_ENV = "STILLFRAME_SERVE_SECRET_ACCESS_KEY"


def build_gate(args: argparse.Namespace, env: Mapping[str, str]) -> RequestGate:
    """The checks the serve flags ask for: SigV4 with one key pair (flags win over env), a token bucket."""
    access_key_id = args.access_key_id or env.get(ACCESS_KEY_ENV) or None
    secret_access_key = _secret_access_key(args, env)
    if args.keys_file is not None and (args.access_key_id or secret_access_key):
        raise UsageError("give --keys-file or --access-key-id/--secret-access-key, not both")
    if (access_key_id is None) != (secret_access_key is None):
        raise UsageError(
            f"give both --access-key-id and --secret-access-key (or {ACCESS_KEY_ENV} and {SECRET_KEY_ENV}), or neither"
        )
    if args.burst is not None and args.rate_limit is None:
        raise UsageError("--burst only applies with --rate-limit")
    verifier = None
    if access_key_id is not None and secret_access_key is not None:
        verifier = SigV4Verifier.single(access_key_id, secret_access_key)
    throttle = None
    if args.rate_limit is not None:
        throttle = TokenBucket(args.rate_limit, args.burst or default_burst(args.rate_limit))
    return RequestGate(verifier=verifier, throttle=throttle, open_paths=OPEN_PATHS)


def _secret_access_key(args: argparse.Namespace, env: Mapping[str, str]) -> str | None:
    """The secret from the file, the flag (with a warning: ``ps`` shows it) or the environment, in that order."""
    file = getattr(args, "secret_access_key_file", None)
    if file is not None and args.secret_access_key:
        raise UsageError("give --secret-access-key or --secret-access-key-file, not both")
    if file is not None:
        try:
            secret = Path(file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise UsageError(f"cannot read --secret-access-key-file {file}: {exc.strerror or exc}") from exc
        if not secret:
            raise UsageError(f"--secret-access-key-file {file} is empty")
        return secret
    if args.secret_access_key:
        print(
            "warning: --secret-access-key is visible to every user of this machine in the process list; "
            f"use --secret-access-key-file or {SECRET_KEY_ENV}",
            file=sys.stderr,
        )
        return str(args.secret_access_key)
    return env.get(SECRET_KEY_ENV) or None


def gate_banner(gate: RequestGate) -> list[str]:
    """Start-up lines saying which API Gateway checks are on (none when both are off)."""
    lines = []
    if gate.verifier is not None and isinstance(gate.verifier.keys, KeyStore):
        ids = ", ".join(key.access_key_id for key in gate.verifier.keys.keys)
        lines.append(
            f"auth: AWS SigV4 required, access key {ids} "
            "(service kinesisvideo or execute-api, any region); otherwise 403 NotAuthorizedException"
        )
    if gate.throttle is not None:
        lines.append(f"throttle: {gate.throttle}; over it 429 ClientLimitExceededException")
    return lines


def prepare_keys_auth(args: argparse.Namespace, env: MutableMapping[str, str]) -> Path | None:
    """With ``--keys-file``, have the handler check signatures against that key store; return its path."""
    if args.keys_file is None:
        env.pop("STILLFRAME_AUTH", None)  # only the flag turns keys auth on
        return None
    path = Path(args.keys_file).expanduser().resolve()
    if path.is_dir():
        raise UsageError(f"--keys-file {path} is a directory")
    try:
        KeyFile(path).load()
    except KeyStoreUnavailable as exc:
        raise UsageError(str(exc)) from exc
    env.update(STILLFRAME_AUTH="keys", STILLFRAME_KEYS_FILE=str(path))
    env.pop("STILLFRAME_KEYS_SECRET_ARN", None)
    env.setdefault("STILLFRAME_KEYS_CACHE_SECONDS", "0")  # a local file is cheap to check: changes apply at once
    return path


def keys_banner(keys_file: Path) -> str:
    """The start-up line of keys auth: where the keys are and how many are active."""
    active = sum(1 for key in KeyFile(keys_file).load().keys if key.active)
    hint = "" if active else f"; none yet: `stillframe keys create --keys-file {keys_file}`"
    return (
        f"auth: keys from {keys_file} ({active} active{hint}); SigV4 for kinesisvideo or execute-api, any region; "
        "otherwise 401 NotAuthorizedException"
    )
