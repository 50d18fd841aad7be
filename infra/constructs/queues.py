"""SQS queues as every Stillframe queue is made: SSE-SQS encrypted, TLS only (cdk-nag SQS2, SQS4)."""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_sqs as sqs
from constructs import Construct

# SQS's longest retention: a failed event or job waits two weeks for someone to look at it.
DEAD_LETTER_RETENTION = Duration.days(14)


def secure_queue(scope: Construct, construct_id: str, **props: Any) -> sqs.Queue:
    """A queue encrypted with SQS-managed keys whose policy refuses requests without TLS."""
    return sqs.Queue(scope, construct_id, encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True, **props)


def dead_letter_queue(scope: Construct, construct_id: str) -> sqs.Queue:
    """A secure queue that keeps what failed for as long as SQS allows."""
    return secure_queue(scope, construct_id, retention_period=DEAD_LETTER_RETENTION)
