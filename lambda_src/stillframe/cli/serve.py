"""``stillframe serve``: the whole service on one machine, over a local directory or an S3 bucket.

Its settings are the environment's with the flags on top (``serve_environment``), handed to ``wiring.build`` once
the address is bound; the handler answers with those services. What API Gateway adds in front of the Lambda on AWS,
SigV4 auth and stage throttling, is off unless asked for (``--access-key-id``/``--secret-access-key``,
``--rate-limit``). ``--keys-file`` turns on "keys" auth instead: the handler checks signatures against a key store
file, exactly as the deployed functions do with ``STILLFRAME_AUTH=keys``.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import ipaddress
import os
import ssl
import sys
import warnings
from errno import EADDRINUSE
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from stillframe.cli.arguments import positive_float, positive_int
from stillframe.cli.errors import CommandFailed, UsageError
from stillframe.cli.serve_environment import quiet_powertools, serve_settings
from stillframe.cli.serve_gate import (
    ACCESS_KEY_ENV,
    SECRET_KEY_ENV,
    browser_banner,
    browser_policy,
    build_gate,
    gate_banner,
    keys_banner,
    keys_file_of,
    register_browser_flags,
)
from stillframe.cli.serve_runtime import serve_until_signalled, start_leftover_sweep
from stillframe.client import is_loopback
from stillframe.server import ProxyHandler, RequestGate, ServerConfig, ServerLimits, StillframeServer
from stillframe.server.browsers import BrowserPolicy
from stillframe.server.site import with_site
from stillframe.server.tls import TlsFiles, TlsUnavailable, ensure_local_ca, server_context, wanted_hosts
from stillframe.wiring import Services, build, start_background

TLS_DIR = "tls"  # in the data directory: the local CA and server certificate of --https
DEFAULT_DATA_DIR = "./stillframe-data"
DEFAULT_PORT = 4577  # not 4566: that is LocalStack's, and people run both


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
    register_browser_flags(parser)
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
        limits.add_argument(flag, type=positive_int, default=default, metavar="N", help=what)


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
        "--rate-limit", type=positive_float, metavar="RPS", help="throttle all requests to RPS per second"
    )
    gate.add_argument(
        "--burst",
        type=positive_int,
        metavar="N",
        help="requests allowed at once with --rate-limit (default: RPS, at least 1)",
    )


def run(args: argparse.Namespace) -> int:
    """Configure the environment, import the handler, serve until SIGINT/SIGTERM."""
    if args.prefix and not args.bucket:
        raise UsageError("--prefix only applies with --bucket")
    gate = build_gate(args, os.environ)  # usage errors before anything is created
    keys_file = keys_file_of(args)
    settings, location = serve_settings(args, os.environ, keys_file=keys_file)
    browsers = browser_policy(args, os.environ, authenticated=gate.verifier is not None or keys_file is not None)
    tls, tls_lines = tls_setup(args)
    quiet_powertools(os.environ)
    # Metrics are off locally; Powertools would still warn on every request that it has none to publish.
    warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)
    config = ServerConfig(
        time_budget_ms=settings.time_budget_ms, region=settings.region, account_id=settings.account_id
    )
    server = _listen(args, config=config, gate=gate, tls=tls, browsers=browsers)
    endpoint = public_url(args, server)
    if endpoint is None:
        print("warning: GetDataEndpoint answers with the Host each client sent; give --public-url", file=sys.stderr)
    # The services exist once the address is known (a port-0 bind picks it): GetDataEndpoint answers with it.
    svc = start_background(build(dataclasses.replace(settings, public_url=endpoint or "")))
    server.proxy_handler = with_site(handler_for(svc), store=location)  # GET /health and the viewer at /
    _announce(server, gate, keys_file, [*browser_banner(browsers, args), *tls_lines], location)
    start_leftover_sweep(svc)
    serve_until_signalled(server)
    print("stopped", flush=True)
    return 0


def _listen(
    args: argparse.Namespace,
    *,
    config: ServerConfig,
    gate: RequestGate,
    tls: ssl.SSLContext | None,
    browsers: BrowserPolicy,
) -> StillframeServer:
    """The server bound to ``--host``/``--port``; CommandFailed (with a hint when the port is taken) if it cannot."""
    try:
        return StillframeServer(
            (args.host, args.port),
            _not_ready,
            config=config,
            gate=gate,
            limits=server_limits(args),
            tls=tls,
            browsers=browsers,
        )
    except OSError as exc:
        hint = (
            "; another process uses it: pick another with --port (0: any free one)" if exc.errno == EADDRINUSE else ""
        )
        raise CommandFailed(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}{hint}") from exc


def _announce(
    server: StillframeServer, gate: RequestGate, keys_file: Path | None, lines: list[str], location: str
) -> None:
    """The start-up lines: a warning when nothing authenticates a reachable server, which checks are on, where."""
    if gate.verifier is None and keys_file is None and not is_loopback(server.url):
        print("warning: requests are not authenticated; anyone who can reach this address can use it", file=sys.stderr)
    if keys_file is not None:
        print(keys_banner(keys_file), flush=True)
    for line in [*gate_banner(gate), *lines]:
        print(line, flush=True)
    print(f"Stillframe listening on {server.url} (data: {location})", flush=True)


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
    given = args.public_url or os.environ.get("STILLFRAME_PUBLIC_URL")  # the settings' own variable
    if given:
        parts = urlsplit(given)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
            raise UsageError(f"--public-url must be an http:// or https:// URL without a query, not {given}")
        return str(given).rstrip("/")
    if ipaddress.ip_address(str(server.server_address[0])).is_unspecified:
        return None
    return server.url


def handler_for(svc: Services) -> ProxyHandler:
    """The API handler answering with ``svc`` (imported here: Powertools reads its switches at import)."""
    from stillframe.handlers.api import lambda_handler

    return functools.partial(lambda_handler, svc=svc)


def _not_ready(event: dict[str, Any], context: Any) -> dict[str, Any]:
    raise RuntimeError("serve answers only once its handler is attached")  # never reached: attached before serving
