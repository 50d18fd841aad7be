"""Stillframe's own access keys ("keys" auth): the key store, where it is kept, and what each key may do.

``keystore`` is the model and its versioned JSON form, ``backends`` keeps it in a local file or a Secrets
Manager secret (and caches it in a warm process), ``policy`` decides which operations and streams a key reaches.
``sigv4`` checks a request's signature against the keys: the one verifier of ``stillframe serve`` and of the
Lambda functions.
"""
