"""What every client-side command shares: the endpoint and signing options, a fast "is anyone there?" check,
boto3 clients for a stream, and AWS errors turned into one line a user can act on.

A refused connection is reported at once with the likely cause (no ``stillframe serve`` at that address): boto3
alone retries it for several seconds before saying anything.
"""

from __future__ import annotations

import argparse
import socket
from typing import Any, NoReturn
from urllib.parse import urlsplit

from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

from stillframe.cli.errors import CommandFailed, UsageError
from stillframe.client import CA_BUNDLE_ENV, SIGNING_NAME_ENV, ca_bundle, clients, kinesisvideo_client

CONNECT_TIMEOUT_S = 5.0
# Server-side validation failures: the user's input was wrong, so they exit 2 like local usage errors.
_BAD_INPUT = {"InvalidArgumentException", "ValidationException", "NoDataRetentionException"}


def add_signing_options(parser: argparse.ArgumentParser) -> None:
    """``--region``, ``--profile``, ``--signing-name`` and ``--ca-bundle``, as put-media has them."""
    parser.add_argument("--region", metavar="REGION", help="region to sign for (default: from the URL or AWS config)")
    parser.add_argument("--profile", metavar="NAME", help="AWS profile for credentials")
    parser.add_argument(
        "--signing-name",
        metavar="NAME",
        help=f"SigV4 service name to sign for (default: {SIGNING_NAME_ENV}, else execute-api for an API Gateway "
        "host, kinesisvideo for any other); keys auth accepts kinesisvideo and execute-api",
    )
    parser.add_argument(
        "--ca-bundle",
        metavar="FILE",
        help=f"PEM file of CA certificates to verify HTTPS with (default: {CA_BUNDLE_ENV}, else the system's)",
    )


def add_stream_options(parser: argparse.ArgumentParser) -> None:
    """``--endpoint-url`` and one of ``--stream`` / ``--stream-arn``."""
    parser.add_argument(
        "--endpoint-url", required=True, metavar="URL", help="service base URL, e.g. http://127.0.0.1:4577"
    )
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--stream", metavar="NAME", help="stream name")
    which.add_argument("--stream-arn", metavar="ARN", help="stream ARN")


def stream_ref(args: argparse.Namespace) -> dict[str, str]:
    """``{"StreamName": ...}`` or ``{"StreamARN": ...}`` for request bodies."""
    return {"StreamARN": args.stream_arn} if args.stream_arn else {"StreamName": args.stream}


def stream_label(args: argparse.Namespace) -> str:
    """The stream as the user named it."""
    return str(args.stream_arn or args.stream)


def require_reachable(url: str, timeout_s: float = CONNECT_TIMEOUT_S) -> None:
    """Fail at once, with the likely cause, when nothing accepts connections at ``url``."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return
    except ConnectionRefusedError as exc:
        raise CommandFailed(
            f"cannot connect to {url}: connection refused; is stillframe serve running at {url}?"
        ) from exc
    except socket.gaierror as exc:
        raise CommandFailed(f"cannot connect to {url}: unknown host {host}") from exc
    except OSError as exc:  # timeouts and unreachable networks
        raise CommandFailed(f"cannot connect to {url}: {exc.strerror or exc}") from exc


def media_client(args: argparse.Namespace, endpoint: str) -> Any:
    """The ``kinesis-video-archived-media`` client for ``endpoint`` (checked reachable first)."""
    require_reachable(endpoint)
    try:
        _, archived = clients(
            endpoint,
            region=args.region,
            profile=args.profile,
            signing_name=args.signing_name,
            ca_bundle=ca_bundle(args.ca_bundle),
        )
    except BotoCoreError as exc:  # e.g. an unknown --profile
        raise UsageError(str(exc)) from exc
    return archived


def control_client(args: argparse.Namespace, endpoint: str) -> Any:
    """The ``kinesisvideo`` (control plane) client for ``endpoint``, signed as the command's options say."""
    return kinesisvideo_client(
        endpoint,
        region=args.region,
        profile=args.profile,
        signing_name=args.signing_name,
        ca_bundle=ca_bundle(args.ca_bundle),
    )


def fail(operation: str, exc: Exception, endpoint: str, stream: str) -> NoReturn:
    """Raise the one-line error for a failed call: a usage error for refused input, else a failure."""
    if isinstance(exc, EndpointConnectionError):
        raise CommandFailed(f"cannot connect to {endpoint}; is stillframe serve running at {endpoint}?") from exc
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code, message = error.get("Code"), error.get("Message")
        if code == "ResourceNotFoundException":
            raise CommandFailed(
                f"{operation}: stream {stream} not found at {endpoint} "
                "(create it and add video with `stillframe put-media --create-stream`)"
            ) from exc
        kind = UsageError if code in _BAD_INPUT else CommandFailed
        raise kind(f"{operation}: {code}: {message}") from exc
    raise CommandFailed(f"{operation} failed: {exc}") from exc
