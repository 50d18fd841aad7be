"""The drop-zone Lambda's deployed handler path (infra/constructs/runtime.py INGEST_HANDLER), kept as a re-export.

The handler is ``stillframe.handlers.dropzone`` and the operation ``stillframe.operations.ingest_object``; point
INGEST_HANDLER at the handler and delete this module.
"""

from stillframe.handlers.dropzone import lambda_handler

__all__ = ["lambda_handler"]
