"""Logger, Tracer and Metrics for the whole package (at the root, so the domain never imports the handler)."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = "stillframe"

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace="Stillframe", service=SERVICE)
