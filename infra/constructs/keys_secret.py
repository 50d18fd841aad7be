"""The access-key store of ``authMode=keys``: the keys whose SigV4 signatures the functions accept."""

from __future__ import annotations

import json

from aws_cdk import RemovalPolicy, SecretValue
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

# The store's document before any key is added; ``stillframe keys`` writes later versions.
EMPTY_KEY_STORE = {"version": 1, "keys": []}


class KeysSecret(Construct):
    """A Secrets Manager secret holding the access-key store as JSON, empty at first.

    The template's value is only the initial one: CloudFormation writes the secret again only when that
    value changes in the template, so redeploying keeps the keys added since. The API functions read it
    (env ``STILLFRAME_KEYS_SECRET_ARN``); deleting the stack deletes it with the API it opens.

    Attributes:
      secret: the secret.
    """

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.secret = secretsmanager.Secret(
            self,
            "Secret",
            description="Stillframe access keys (authMode=keys): managed with `stillframe keys`",
            # Not a secret: an empty list; the keys are added after deploy, outside the template.
            secret_string_value=SecretValue.unsafe_plain_text(json.dumps(EMPTY_KEY_STORE)),
            removal_policy=RemovalPolicy.DESTROY,
        )
