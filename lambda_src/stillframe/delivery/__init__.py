"""Automated image delivery: KVS's UpdateImageGenerationConfiguration made real.

While a stream's configuration is ENABLED, ingest writes a durable job marker ``generate/<media id>/<fragment
number>`` (``jobs``) for every stored fragment that carries KVS's image-generation tag, before it acks the
fragment, and hands the marker to the process's delivery worker (``worker``). The worker renders the fragment's
images with the GetImages engine (``generate``), writes them to the destination (``sinks``) under KVS's key
layout (``layout``), then deletes the marker. A failure is logged, counted and retried with backoff; the marker
stays, so a restart resumes it (the worker lists ``generate/`` when it starts). The fragment itself is stored
before the marker and never depends on delivery.
"""
