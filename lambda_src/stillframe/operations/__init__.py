"""One module per KVS operation: plain functions over the ports they need, composed once by ``wiring``.

Each function takes a validated request (``stillframe.domain``) and exactly its ports (stream catalog, fragment
index, token codec, store, clock) as arguments and returns the response body. Nothing here imports Powertools,
``os.environ`` or ``wiring``; ``Operations`` (``operations.registry``) binds the ports once per process so a route
is parse -> one call -> shape.
"""
