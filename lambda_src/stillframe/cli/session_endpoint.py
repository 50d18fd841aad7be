"""Where put-media may hold a live session: GetDataEndpoint with APIName PUT_MEDIA, asked as producers ask it."""

from __future__ import annotations

import argparse
import sys

from botocore.exceptions import BotoCoreError, ClientError

from stillframe.cli.connect import control_client
from stillframe.cli.errors import CommandFailed

PUT_MEDIA = "PUT_MEDIA"


def session_endpoint(endpoint: str, args: argparse.Namespace) -> str | None:
    """The session host for ``args.stream``, or None when the service cannot hold a session (the deployed API
    without a session host answers InvalidArgumentException): then chunks go up one request each, as for files."""
    try:
        answer = control_client(args, endpoint).get_data_endpoint(StreamName=args.stream, APIName=PUT_MEDIA)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code, message = error.get("Code"), error.get("Message")
        if code == "InvalidArgumentException":
            print(f"note: no live session here ({message}); sending one request per chunk", file=sys.stderr)
            return None
        hint = "; add --create-stream to create it" if code == "ResourceNotFoundException" else ""
        raise CommandFailed(f"GetDataEndpoint failed: {code}: {message}{hint}") from exc
    except BotoCoreError as exc:
        raise CommandFailed(f"GetDataEndpoint failed: {exc}") from exc
    return str(answer["DataEndpoint"])
