"""The browser viewer ``stillframe serve`` answers at ``/``: static HTML, JavaScript and CSS, no build step.

It calls the same JSON API the SDKs call (``POST /listStreams``, ``/listFragments``, ``/getImages``), unsigned, so
it works against a ``serve`` started without ``--access-key-id`` or ``--keys-file``.
"""
