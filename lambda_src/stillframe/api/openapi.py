"""The OpenAPI document of the API, generated from the request models the resolver validates.

``python -m stillframe.api.openapi docs/openapi.json`` writes it; tests/unit/test_openapi.py fails when the
committed document and the code disagree.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from stillframe import __version__

REGENERATE = "python -m stillframe.api.openapi docs/openapi.json"
DESCRIPTION = (
    "Kinesis Video Streams GetImages and the KVS calls around it, wire-compatible (rest-json). "
    "Errors: the modeled status, x-amzn-ErrorType and {'__type', 'message'}; validation refusals are "
    "400 InvalidArgumentException (ValidationException for WidthPixels without HeightPixels)."
)


def document() -> str:
    """The OpenAPI 3.1 document, as committed (stable key order, two-space indent, final newline)."""
    from stillframe.api.app import app

    schema = json.loads(app.get_openapi_json_schema(title="Stillframe", version=__version__, description=DESCRIPTION))
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    """Write the document to the path given, or print it."""
    text = document()
    if argv:
        Path(argv[0]).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
