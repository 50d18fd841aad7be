"""``stillframe serve``: the whole service on one machine, over a local directory or an S3 bucket.

The handler reads its settings from the environment when it is imported (a Lambda cold start), so this command
writes the environment first and imports the handler after. What API Gateway adds in front of the Lambda on AWS,
SigV4 auth and stage throttling, is off unless asked for (``--access-key-id``/``--secret-access-key``,
``--rate-limit``). ``--keys-file`` turns on "keys" auth instead: the handler checks signatures against a key store
file, exactly as the deployed functions do with ``STILLFRAME_AUTH=keys``.
"""

from __future__ import annotations

import argparse
import ipaddress
import math
import os
import secrets
import signal
import ssl
import sys
import threading
import time
import warnings
from collections.abc import Mapping, MutableMapping
from errno import EADDRINUSE
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from stillframe.access.backends import KeyFile, KeyStoreUnavailable
from stillframe.access.keystore import KeyStore
from stillframe.cli.errors import CommandFailed, UsageError
from stillframe.client import is_loopback
from stillframe.server import (
    ProxyHandler,
    RequestGate,
    ServerConfig,
    ServerLimits,
    SigV4Verifier,
    StillframeServer,
    TokenBucket,
    default_burst,
)
from stillframe.server.site import OPEN_PATHS, with_site
from stillframe.server.tls import TlsFiles, TlsUnavailable, ensure_local_ca, server_context, wanted_hosts
from stillframe.settings import Settings, SettingsError

TOKEN_SECRET_FILE = "token-secret"
TLS_DIR = "tls"  # in the data directory: the local CA and server certificate of --https
DEFAULT_DATA_DIR = "./stillframe-data"
DEFAULT_PORT = 4577  # not 4566: that is LocalStack's, and people run both
ACCESS_KEY_ENV = "STILLFRAME_SERVE_ACCESS_KEY_ID"
SECRET_KEY_ENV = "STILLFRAME_SERVE_SECRET_ACCESS_KEY"


def register(subparsers: Any) -> None:
    """Add the ``serve`` subcommand."""
    parser = subparsers.add_parser(
        "serve",
        help="run the API locally over a directory (or an S3 bucket)",
        description="Serve the Kinesis Video Streams API (GetImages, PutMedia, ...) on a local port.",
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--data-dir", default=DEFAULT_DATA_DIR, metavar="DIR", help="store streams here (default: %(default)s)"
    )
    where.add_argument("--bucket", metavar="NAME", help="store streams in this S3 bucket instead of a directory")
    parser.add_argument("--prefix", default="", metavar="P", help="key prefix inside --bucket")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help="port; 0 picks a free one (default: %(default)s)"
    )
    parser.add_argument(
        "--token-secret-file",
        type=Path,
        metavar="FILE",
        help="file holding the NextToken secret (default: <data-dir>/token-secret, created on first start; "
        "with --bucket: this file or STILLFRAME_TOKEN_SECRET)",
    )
    parser.add_argument(
        "--public-url",
        metavar="URL",
        help="the base URL GetDataEndpoint answers with (default: the address it listens on; give it when "
        "listening on 0.0.0.0 or behind a proxy)",
    )
    _register_tls(parser)
    _register_gate(parser)
    _register_limits(parser)
    parser.set_defaults(run=run)


def _register_tls(parser: argparse.ArgumentParser) -> None:
    tls = parser.add_argument_group("HTTPS (off by default)")
    tls.add_argument(
        "--https",
        action="store_true",
        help=f"serve HTTPS with a certificate from a local CA kept in <data-dir>/{TLS_DIR} (made once, reused on "
        "restart; names localhost, 127.0.0.1, ::1 and --host); the banner prints the CA file for AWS_CA_BUNDLE",
    )
    tls.add_argument(
        "--tls-cert", type=Path, metavar="FILE", help="serve HTTPS with this PEM certificate (chain) instead"
    )
    tls.add_argument(
        "--tls-key", type=Path, metavar="FILE", help="the PEM private key of --tls-cert (default: in --tls-cert)"
    )


def _register_limits(parser: argparse.ArgumentParser) -> None:
    limits = parser.add_argument_group(
        "limits", "What the server holds at once; past them a request gets 429 ClientLimitExceededException."
    )
    defaults = ServerLimits()
    for flag, default, what in (
        (
            "--max-concurrent-requests",
            defaults.max_concurrent_requests,
            "requests read and handled at once; memory grows with it (default: %(default)s, the cores)",
        ),
        (
            "--max-queued-requests",
            defaults.max_queued_requests,
            "requests waiting for a turn before more are refused (default: %(default)s)",
        ),
        ("--max-connections", defaults.max_connections, "open client connections (default: %(default)s)"),
    ):
        limits.add_argument(flag, type=_positive_int, default=default, metavar="N", help=what)


def _register_gate(parser: argparse.ArgumentParser) -> None:
    gate = parser.add_argument_group(
        "API Gateway checks (off by default)",
        "Refuse requests as the deployed API does: unsigned or badly signed ones with 403 NotAuthorizedException, "
        "those over the rate with 429 ClientLimitExceededException.",
    )
    gate.add_argument(
        "--access-key-id",
        metavar="AKID",
        help=f"require AWS SigV4 signatures made with this key pair (service kinesisvideo or execute-api, any "
        f"region); or set {ACCESS_KEY_ENV}",
    )
    gate.add_argument(
        "--secret-access-key",
        metavar="SECRET",
        help="the secret of --access-key-id (visible to every user in the process list: prefer "
        f"--secret-access-key-file or {SECRET_KEY_ENV})",
    )
    gate.add_argument(
        "--secret-access-key-file",
        type=Path,
        metavar="FILE",
        help="read the secret of --access-key-id from FILE (surrounding whitespace dropped)",
    )
    gate.add_argument(
        "--keys-file",
        type=Path,
        metavar="FILE",
        help="keys auth: require SigV4 signatures made with an active key of this key store (made with "
        "`stillframe keys create --keys-file FILE`; changes apply at once), refused with 401 "
        "NotAuthorizedException as the deployed functions do",
    )
    gate.add_argument(
        "--rate-limit", type=_positive_float, metavar="RPS", help="throttle all requests to RPS per second"
    )
    gate.add_argument(
        "--burst",
        type=_positive_int,
        metavar="N",
        help="requests allowed at once with --rate-limit (default: RPS, at least 1)",
    )


def run(args: argparse.Namespace) -> int:
    """Configure the environment, import the handler, serve until SIGINT/SIGTERM."""
    if args.prefix and not args.bucket:
        raise UsageError("--prefix only applies with --bucket")
    gate = build_gate(args, os.environ)  # usage errors before anything is created
    location = prepare_environment(args, os.environ)
    keys_file = prepare_keys_auth(args, os.environ)
    tls, tls_lines = tls_setup(args)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        raise UsageError(str(exc)) from exc
    # Metrics are off locally; Powertools would still warn on every request that it has none to publish.
    warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)
    handler = with_site(load_handler(), store=location)  # GET /health and the viewer at /
    config = ServerConfig(
        time_budget_ms=settings.time_budget_ms, region=settings.region, account_id=settings.account_id
    )
    try:
        server = StillframeServer(
            (args.host, args.port), handler, config=config, gate=gate, limits=server_limits(args), tls=tls
        )
    except OSError as exc:
        hint = (
            "; another process uses it: pick another with --port (0: any free one)" if exc.errno == EADDRINUSE else ""
        )
        raise CommandFailed(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}{hint}") from exc
    endpoint = public_url(args, server)
    if endpoint is None:
        print("warning: GetDataEndpoint answers with the Host each client sent; give --public-url", file=sys.stderr)
    else:
        os.environ["STILLFRAME_PUBLIC_URL"] = endpoint  # the handler reads its settings on the first request
    if gate.verifier is None and keys_file is None and not is_loopback(server.url):
        print("warning: requests are not authenticated; anyone who can reach this address can use it", file=sys.stderr)
    if keys_file is not None:
        print(keys_banner(keys_file), flush=True)
    for line in [*gate_banner(gate), *tls_lines]:
        print(line, flush=True)
    print(f"Stillframe listening on {server.url} (data: {location})", flush=True)
    start_leftover_sweep()
    serve_until_signalled(server)
    print("stopped", flush=True)
    return 0


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


def tls_setup(args: argparse.Namespace) -> tuple[ssl.SSLContext | None, list[str]]:
    """The TLS context ``--https`` or ``--tls-cert`` asks for (None: plain HTTP) and its start-up lines."""
    if args.tls_key is not None and args.tls_cert is None:
        raise UsageError("--tls-key goes with --tls-cert")
    try:
        if args.tls_cert is not None:
            files = TlsFiles(cert=args.tls_cert, key=args.tls_key or args.tls_cert)
            return server_context(files), [f"tls: certificate {files.cert}"]
        if not args.https:
            return None, []
        if args.bucket:
            raise UsageError("with --bucket, --https needs --tls-cert (there is no data directory to keep a CA in)")
        directory = Path(args.data_dir).expanduser().resolve() / TLS_DIR
        files = ensure_local_ca(directory, wanted_hosts(args.host, urlsplit(args.public_url or "").hostname))
        return server_context(files), [f"tls: clients trust the CA {files.ca} (AWS_CA_BUNDLE={files.ca})"]
    except TlsUnavailable as exc:
        raise UsageError(str(exc)) from exc


def server_limits(args: argparse.Namespace) -> ServerLimits:
    """The connection and request limits the flags ask for."""
    return ServerLimits(
        max_concurrent_requests=args.max_concurrent_requests,
        max_queued_requests=args.max_queued_requests,
        max_connections=args.max_connections,
    )


def public_url(args: argparse.Namespace, server: StillframeServer) -> str | None:
    """The URL GetDataEndpoint answers with: ``--public-url`` (or STILLFRAME_PUBLIC_URL), else the bound address.

    None when bound to a wildcard address: then no one address is right for every client.
    """
    given = args.public_url or os.environ.get("STILLFRAME_PUBLIC_URL")
    if given:
        parts = urlsplit(given)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
            raise UsageError(f"--public-url must be an http:// or https:// URL without a query, not {given}")
        return str(given).rstrip("/")
    if ipaddress.ip_address(str(server.server_address[0])).is_unspecified:
        return None
    return server.url


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


def load_handler() -> ProxyHandler:
    """Import the API handler (after the environment is set: it reads settings at import)."""
    from stillframe.api.handler import lambda_handler

    return lambda_handler


def start_leftover_sweep() -> threading.Thread:
    """Once, in the background: what ``stillframe reindex`` does for crash leftovers (pending writes older than an
    hour, media of deleted streams), over the store the handler uses; one line when done."""

    def sweep() -> None:
        from stillframe.catalog.repair import sweep_leftovers
        from stillframe.wiring import services

        started = time.monotonic()
        try:
            svc = services()
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


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value < math.inf:  # also refuses nan
        raise argparse.ArgumentTypeError(f"must be a number more than 0, not {text}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {text}")
    return value


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
