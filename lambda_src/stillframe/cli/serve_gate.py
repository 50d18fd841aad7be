"""What ``stillframe serve`` puts in front of the handler, as API Gateway does on AWS: SigV4 with one key pair and
a token bucket (the request gate), or "keys" auth checked by the handler against a key store file; what web pages
may do with a server that has neither (``server.browsers``); and the start-up lines that say which is on.

The secret of ``--access-key-id`` comes from a file, the flag or the environment, in that order.
"""

from __future__ import annotations

import argparse
import socket
import sys
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from stillframe.access.backends import KeyFile, KeyStoreUnavailable
from stillframe.access.keystore import KeyStore
from stillframe.cli.errors import UsageError
from stillframe.server import RequestGate, SigV4Verifier, TokenBucket, default_burst
from stillframe.server.browsers import BrowserPolicy, origin_problem, policy_for
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


def keys_file_of(args: argparse.Namespace) -> Path | None:
    """With ``--keys-file``, the key store the handler checks signatures against (it must be readable)."""
    if args.keys_file is None:
        return None
    path = Path(args.keys_file).expanduser().resolve()
    if path.is_dir():
        raise UsageError(f"--keys-file {path} is a directory")
    try:
        KeyFile(path).load()
    except KeyStoreUnavailable as exc:
        raise UsageError(str(exc)) from exc
    return path


def keys_banner(keys_file: Path) -> str:
    """The start-up line of keys auth: where the keys are and how many are active."""
    active = sum(1 for key in KeyFile(keys_file).load().keys if key.active)
    hint = "" if active else f"; none yet: `stillframe keys create --keys-file {keys_file}`"
    return (
        f"auth: keys from {keys_file} ({active} active{hint}); SigV4 for kinesisvideo or execute-api, any region; "
        "otherwise 401 NotAuthorizedException"
    )


def register_browser_flags(parser: argparse.ArgumentParser) -> None:
    """Add ``--allow-origin`` and ``--allow-host``: what a server without authentication lets web pages do."""
    browsers = parser.add_argument_group(
        "web pages (without authentication)",
        "A server that checks no signatures answers only to its own names (loopback names, IP addresses, --host, "
        "the host of --public-url, this machine's name) and takes requests from loopback pages and its own only; "
        "others get 403 NotAuthorizedException. JSON bodies must be sent as JSON (else 415). With signatures "
        "required, every origin may call it, as KVS allows.",
    )
    browsers.add_argument(
        "--allow-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="also take requests from pages of ORIGIN (scheme://host[:port], e.g. https://app.example); repeatable",
    )
    browsers.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="also answer to the host name NAME (e.g. a LAN name of a server on 0.0.0.0); repeatable",
    )


def browser_policy(args: argparse.Namespace, env: Mapping[str, str], *, authenticated: bool) -> BrowserPolicy:
    """The policy the flags ask for; UsageError for a flag that cannot apply or a value that is no origin or name."""
    if authenticated and (args.allow_origin or args.allow_host):
        raise UsageError(
            "--allow-origin and --allow-host only apply without authentication: with signatures required, "
            "every origin and host name is answered"
        )
    for origin in args.allow_origin:
        problem = origin_problem(origin)
        if problem is not None:
            raise UsageError(f"--allow-origin: {problem}")
    for name in args.allow_host:
        if not name.strip() or any(mark in name for mark in ("/", "@", " ")):
            raise UsageError(f"--allow-host takes a host name such as box.lan, not {name!r}")
    public = args.public_url or env.get("STILLFRAME_PUBLIC_URL") or ""
    # This machine's name is its own: a rebinding page comes with the attacker's name, never with this one.
    hosts = [args.host, urlsplit(public).hostname, socket.gethostname(), *args.allow_host]
    return policy_for(authenticated=authenticated, hosts=hosts, origins=args.allow_origin)


def browser_banner(policy: BrowserPolicy, args: argparse.Namespace) -> list[str]:
    """The start-up line of ``--allow-origin``/``--allow-host`` (none without them: the defaults are in --help)."""
    if not (args.allow_origin or args.allow_host):
        return []
    origins = ", ".join(["loopback pages", "its own", *sorted(policy.origins)])
    names = ", ".join(["loopback names", "IP addresses", *sorted(policy.hosts)])
    return [f"browsers: requests from {origins}; host names {names}"]
