"""``stillframe keys create|list|revoke``: manage the access keys of "keys" auth.

The key store is a local file (``--keys-file``, default ``<data-dir>/keys.json``, for ``stillframe serve
--keys-file``) or, for a deployment, the Secrets Manager secret named by the stack output ``KeysSecretArn``
(``--stack``) or given directly (``--secret-arn``). Secrets are shown once, by ``create``; ``list`` never shows
them. A revoked key stays listed; the deployed functions stop accepting it within their cache time.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from stillframe.access.backends import KeyBackend, KeyFile, KeyStoreUnavailable, SecretsManagerKeys
from stillframe.access.keystore import AccessKey, KeyStore, KeyStoreError, format_time, new_key
from stillframe.cli.errors import CommandFailed, UsageError
from stillframe.cli.serve import DEFAULT_DATA_DIR

KEYS_FILE = "keys.json"
DEFAULT_STACK = "Stillframe"
SECRET_OUTPUT = "KeysSecretArn"


def register(subparsers: Any) -> None:
    """Add the ``keys`` subcommand and its ``create``, ``list`` and ``revoke`` actions."""
    parser = subparsers.add_parser(
        "keys",
        help="create, list and revoke access keys for keys auth",
        description="Manage the access keys that keys auth accepts (serve --keys-file, or a deployment "
        "with auth keys). Unmodified AWS SDKs and the AWS CLI sign with them as with any AWS key pair.",
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    where = _location_options()
    create = actions.add_parser("create", parents=[where], help="create a key and print its secret (once)")
    create.add_argument("--description", default="", metavar="TEXT", help="what the key is for")
    create.add_argument(
        "--stream-prefix",
        action="append",
        dest="stream_prefixes",
        metavar="P",
        help="limit the key to streams whose name starts with P (repeatable; default: every stream)",
    )
    create.add_argument(
        "--read-only",
        action="store_true",
        help="allow only DescribeStream, ListStreams, GetDataEndpoint, GetImages and ListFragments",
    )
    create.add_argument("--json", action="store_true", help="print the new key as JSON")
    create.set_defaults(run=run_create)
    listing = actions.add_parser("list", parents=[where], help="list keys (never their secrets)")
    listing.add_argument("--json", action="store_true", help="print the keys as JSON")
    listing.set_defaults(run=run_list)
    revoke = actions.add_parser("revoke", parents=[where], help="revoke a key (it stays listed as revoked)")
    revoke.add_argument("access_key_id", metavar="AKID", help="the access key ID to revoke")
    revoke.set_defaults(run=run_revoke)


def _location_options() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("where the keys are (default: <data-dir>/keys.json)")
    exclusive = group.add_mutually_exclusive_group()
    exclusive.add_argument("--keys-file", type=Path, metavar="FILE", help="a local key store file")
    exclusive.add_argument(
        "--data-dir", metavar="DIR", help=f"use DIR/{KEYS_FILE}, as serve's --data-dir (default: {DEFAULT_DATA_DIR})"
    )
    exclusive.add_argument(
        "--stack",
        metavar="NAME",
        help=f"the deployed stack's secret (its CloudFormation output {SECRET_OUTPUT}); the stack is usually "
        f"{DEFAULT_STACK}",
    )
    exclusive.add_argument("--secret-arn", metavar="ARN", help="this Secrets Manager secret")
    group.add_argument("--region", metavar="REGION", help="AWS region of --stack/--secret-arn (default: AWS config)")
    return parent


def run_create(args: argparse.Namespace) -> int:
    """Create a key; print its ID and secret (the only time the secret is shown)."""
    try:
        key = new_key(description=args.description, stream_prefixes=args.stream_prefixes, read_only=args.read_only)
    except KeyStoreError as exc:
        raise UsageError(str(exc)) from exc
    backend = open_backend(args)
    _change(backend, lambda store: store.with_key(key))
    if args.json:
        print(json.dumps({"AccessKeyId": key.access_key_id, "SecretAccessKey": key.secret_access_key, **_shown(key)}))
    else:
        print(f"AccessKeyId: {key.access_key_id}")
        print(f"SecretAccessKey: {key.secret_access_key}")
    print(f"created {key.access_key_id} in {backend.where}; the secret is not shown again", file=sys.stderr)
    return 0


def run_list(args: argparse.Namespace) -> int:
    """Print every key, revoked ones included, without secrets."""
    store = _load(open_backend(args))
    if args.json:
        print(json.dumps({"Keys": [{"AccessKeyId": key.access_key_id, **_shown(key)} for key in store.keys]}))
        return 0
    if not store.keys:
        print("no keys", file=sys.stderr)
        return 0
    rows = [("ACCESS KEY ID", "CREATED", "STATUS", "ACCESS", "STREAMS", "DESCRIPTION")]
    for key in store.keys:
        status = "active" if key.active else f"revoked {format_time(key.revoked)}" if key.revoked else ""
        streams = "*" if key.stream_prefixes is None else ",".join(prefix + "*" for prefix in key.stream_prefixes)
        access = "read-only" if key.read_only else "read-write"
        rows.append((key.access_key_id, format_time(key.created), status, access, streams, key.description))
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]) - 1)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + "  " + row[-1])
    return 0


def run_revoke(args: argparse.Namespace) -> int:
    """Revoke a key; revoking a revoked key changes nothing."""
    backend = open_backend(args)
    before = _load(backend).find(args.access_key_id)
    if before is None:
        raise UsageError(f"no access key {args.access_key_id} in {backend.where}")
    if before.revoked is not None:
        print(f"{args.access_key_id} was already revoked at {format_time(before.revoked)}", file=sys.stderr)
        return 0
    store = _change(backend, lambda store: store.revoked(args.access_key_id, at=_now()))
    revoked = store.find(args.access_key_id)
    when = format_time(revoked.revoked) if revoked is not None and revoked.revoked else "now"
    print(f"revoked {args.access_key_id} at {when}", file=sys.stderr)
    return 0


def open_backend(args: argparse.Namespace) -> KeyBackend:
    """The key store the location options name."""
    if args.secret_arn:
        return SecretsManagerKeys(args.secret_arn, region=args.region or _arn_region(args.secret_arn))
    if args.stack:
        return SecretsManagerKeys(stack_secret_arn(args.stack, args.region), region=args.region)
    path = args.keys_file or Path(args.data_dir or DEFAULT_DATA_DIR) / KEYS_FILE
    path = Path(path).expanduser()
    if path.is_dir():
        raise UsageError(f"{path} is a directory, not a key store file")
    return KeyFile(path)


def stack_secret_arn(stack: str, region: str | None) -> str:
    """The ``KeysSecretArn`` output of a CloudFormation stack."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        reply = boto3.client("cloudformation", region_name=region).describe_stacks(StackName=stack)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        if error.get("Code") == "ValidationError":
            raise UsageError(f"stack {stack}: {error.get('Message')}") from exc
        raise CommandFailed(f"cannot describe stack {stack}: {error.get('Code')}: {error.get('Message')}") from exc
    except BotoCoreError as exc:
        raise CommandFailed(f"cannot describe stack {stack}: {exc}") from exc
    for output in (reply.get("Stacks") or [{}])[0].get("Outputs") or []:
        if output.get("OutputKey") == SECRET_OUTPUT:
            return str(output["OutputValue"])
    raise CommandFailed(f"stack {stack} has no {SECRET_OUTPUT} output (was it deployed with keys auth?)")


def _shown(key: AccessKey) -> dict[str, Any]:
    return {
        "Created": format_time(key.created),
        "Description": key.description,
        "StreamPrefixes": list(key.stream_prefixes) if key.stream_prefixes is not None else None,
        "ReadOnly": key.read_only,
        "Revoked": format_time(key.revoked) if key.revoked else None,
    }


def _load(backend: KeyBackend) -> KeyStore:
    try:
        return backend.load()
    except KeyStoreUnavailable as exc:
        raise CommandFailed(str(exc)) from exc


def _change(backend: KeyBackend, change: Any) -> KeyStore:
    try:
        return backend.update(change)
    except KeyStoreError as exc:
        raise UsageError(str(exc)) from exc
    except KeyStoreUnavailable as exc:
        raise CommandFailed(str(exc)) from exc


def _arn_region(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[3] if len(parts) > 3 and parts[0] == "arn" and parts[3] else None


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)
