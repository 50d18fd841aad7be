"""The server secret that authenticates NextTokens (HMAC), generated at deploy time."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct


class TokenSecret(Construct):
    """A Secrets Manager secret holding a random string (plain text, not JSON).

    CloudFormation cannot create SSM SecureString parameters, so a generated Secrets Manager secret is the
    deploy-time choice. Functions read it once per cold start (env ``STILLFRAME_TOKEN_SECRET_ARN``).
    Deleting it only invalidates outstanding NextTokens, so it goes with the stack.

    Attributes:
      secret: the secret.
    """

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.secret = secretsmanager.Secret(
            self,
            "Secret",
            description="Stillframe NextToken HMAC key",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=64,
                exclude_punctuation=True,
                include_space=False,
            ),
            removal_policy=RemovalPolicy.DESTROY,
        )
