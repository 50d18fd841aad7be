"""Real boto3 clients for a Stillframe endpoint, signed the way that endpoint expects.

Behind API Gateway (``https://<api>.execute-api.<region>.amazonaws.com/<stage>``) requests must be SigV4-signed
for the service ``execute-api``, not ``kinesisvideo``: botocore signs for the model's ``kinesisvideo`` unless told
otherwise, so a ``before-sign`` handler overrides ``context['signing']['signing_name']`` (the hook botocore's own
endpoint rules use). boto3 keeps the stage path of ``endpoint_url`` in every request URL.

LocalStack's API Gateway hosts (``<api-id>.execute-api.localhost.localstack.cloud``) count as execute-api hosts
too. A deployment with "keys" auth accepts both service names, so the defaults work there as well; to sign as
plain KVS clients do, pass ``signing_name="kinesisvideo"`` or set ``STILLFRAME_SIGNING_NAME``.

A loopback endpoint (``stillframe serve``, LocalStack) with no AWS credentials configured gets dummy ones, so a
fresh machine works without ``aws configure``. TLS is verified with ``AWS_CA_BUNDLE`` when set, as boto3 does,
or an explicit ``ca_bundle``.
"""

from __future__ import annotations

import ipaddress
import os
import re
import ssl
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import NoCredentialsError

from stillframe import __version__

EXECUTE_API = "execute-api"
KINESIS_VIDEO = "kinesisvideo"
DEFAULT_REGION = "us-east-1"
DUMMY_CREDENTIALS = Credentials("test", "test")
SIGNING_NAME_ENV = "STILLFRAME_SIGNING_NAME"
CA_BUNDLE_ENV = "AWS_CA_BUNDLE"
LOCALSTACK_DOMAIN = "localhost.localstack.cloud"  # LocalStack's wildcard domain; every name under it is 127.0.0.1

# <api-id>.execute-api.<region>.amazonaws.com and the private-endpoint form <api-id>-<vpce>.execute-api.<region>.vpce...
_EXECUTE_API_HOST = re.compile(r"\.execute-api\.([a-z0-9-]+)\.(?:vpce\.)?amazonaws\.com(?:\.cn)?$")
_LOCALSTACK_EXECUTE_API_HOST = re.compile(r"^[a-z0-9-]+\.execute-api\." + re.escape(LOCALSTACK_DOMAIN) + "$")


@dataclass(frozen=True)
class Signing:
    """How requests to one endpoint are signed: region, SigV4 service name, and credentials (None: unsigned)."""

    region: str
    signing_name: str
    credentials: Credentials | None


def is_loopback(endpoint_url: str) -> bool:
    """True for ``localhost`` and loopback IP addresses (where dummy credentials are acceptable)."""
    host = urlsplit(endpoint_url).hostname or ""
    if host == "localhost" or host.endswith((".localhost", "." + LOCALSTACK_DOMAIN)) or host == LOCALSTACK_DOMAIN:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def execute_api_region(endpoint_url: str) -> str | None:
    """The region of an API Gateway ``execute-api`` URL, or None for any other URL (LocalStack's included)."""
    match = _EXECUTE_API_HOST.search(urlsplit(endpoint_url).hostname or "")
    return match.group(1) if match else None


def is_execute_api(endpoint_url: str) -> bool:
    """True for an API Gateway host: AWS's ``<id>.execute-api.<region>.amazonaws.com`` or LocalStack's."""
    host = urlsplit(endpoint_url).hostname or ""
    return execute_api_region(endpoint_url) is not None or bool(_LOCALSTACK_EXECUTE_API_HOST.match(host))


def ca_bundle(explicit: str | None = None) -> str | None:
    """The CA bundle to verify TLS with: ``explicit``, else ``AWS_CA_BUNDLE`` (as boto3), else None (system)."""
    return explicit or os.environ.get(CA_BUNDLE_ENV) or None


def tls_context(bundle: str | None = None) -> ssl.SSLContext:
    """A verifying TLS context trusting ``ca_bundle(bundle)`` (or the system store when there is none)."""
    return ssl.create_default_context(cafile=ca_bundle(bundle))


def signing_for(
    endpoint_url: str,
    *,
    region: str | None = None,
    profile: str | None = None,
    session: boto3.Session | None = None,
    signing_name: str | None = None,
) -> Signing:
    """Resolve region, signing name and credentials for ``endpoint_url``.

    Region: ``region``, else the one in an execute-api host, else the session's, else us-east-1.
    Signing name: ``signing_name``, else ``STILLFRAME_SIGNING_NAME``, else ``execute-api`` for an execute-api
    host (AWS's or LocalStack's), else ``kinesisvideo``.
    Credentials: the session's chain; dummy ``test``/``test`` for a loopback URL when the chain finds none.
    """
    session = session or boto3.Session(profile_name=profile)
    api_region = execute_api_region(endpoint_url)
    resolved_region = region or api_region or session.region_name or DEFAULT_REGION
    default_name = EXECUTE_API if is_execute_api(endpoint_url) else KINESIS_VIDEO
    name = signing_name or os.environ.get(SIGNING_NAME_ENV) or default_name
    credentials = session.get_credentials()
    if credentials is None and is_loopback(endpoint_url):
        credentials = DUMMY_CREDENTIALS
    return Signing(region=resolved_region, signing_name=name, credentials=credentials)


def sign_headers(signing: Signing, method: str, url: str, headers: dict[str, str], body: bytes) -> dict[str, str]:
    """SigV4-sign a raw HTTP request as an AWS SDK would (body hash included); return the headers to send."""
    if signing.credentials is None:
        raise NoCredentialsError()
    request = AWSRequest(method=method, url=url, data=body, headers=headers)
    # Frozen: key, secret and token must come from the same refresh.
    SigV4Auth(signing.credentials.get_frozen_credentials(), signing.signing_name, signing.region).add_auth(request)
    return dict(request.headers.items())


def kinesisvideo_client(
    endpoint_url: str,
    *,
    region: str | None = None,
    profile: str | None = None,
    session: boto3.Session | None = None,
    signing_name: str | None = None,
    ca_bundle: str | None = None,
) -> Any:
    """A boto3 ``kinesisvideo`` client (control plane) for a Stillframe endpoint."""
    session = session or boto3.Session(profile_name=profile)
    signing = signing_for(endpoint_url, region=region, session=session, signing_name=signing_name)
    return _build(session, "kinesisvideo", endpoint_url, signing, ca_bundle)


def archived_media_client(
    kinesisvideo: Any,
    stream_name: str,
    *,
    api_name: str = "GET_IMAGES",
    profile: str | None = None,
    session: boto3.Session | None = None,
    signing_name: str | None = None,
    ca_bundle: str | None = None,
) -> Any:
    """A ``kinesis-video-archived-media`` client on the DataEndpoint that ``get_data_endpoint`` returns.

    Pass the same ``profile``/``session``/``signing_name`` given to the control-plane client; the region is
    taken from that client.
    """
    reply = kinesisvideo.get_data_endpoint(StreamName=stream_name, APIName=api_name)
    data_endpoint = reply["DataEndpoint"]
    session = session or boto3.Session(profile_name=profile)
    signing = signing_for(
        data_endpoint, region=kinesisvideo.meta.region_name, session=session, signing_name=signing_name
    )
    return _build(session, "kinesis-video-archived-media", data_endpoint, signing, ca_bundle)


def clients(
    endpoint_url: str,
    *,
    region: str | None = None,
    profile: str | None = None,
    session: boto3.Session | None = None,
    signing_name: str | None = None,
    stream_name: str | None = None,
    ca_bundle: str | None = None,
) -> tuple[Any, Any]:
    """``(kinesisvideo, kinesis-video-archived-media)`` boto3 clients for a Stillframe endpoint.

    With ``stream_name`` the archived-media client is built the KVS way, on the DataEndpoint from
    ``get_data_endpoint(APIName="GET_IMAGES")`` (one request); without it, on ``endpoint_url`` itself, which is
    what Stillframe's GetDataEndpoint answers anyway.
    """
    session = session or boto3.Session(profile_name=profile)
    signing = signing_for(endpoint_url, region=region, session=session, signing_name=signing_name)
    control = _build(session, "kinesisvideo", endpoint_url, signing, ca_bundle)
    if stream_name is not None:
        archived = archived_media_client(
            control, stream_name, session=session, signing_name=signing_name, ca_bundle=ca_bundle
        )
        return control, archived
    return control, _build(session, "kinesis-video-archived-media", endpoint_url, signing, ca_bundle)


def _build(
    session: boto3.Session, service: str, endpoint_url: str, signing: Signing, ca_bundle: str | None = None
) -> Any:
    explicit: dict[str, Any] = {"verify": ca_bundle} if ca_bundle else {}  # else boto3 reads AWS_CA_BUNDLE
    if signing.credentials is DUMMY_CREDENTIALS:
        # Only the dummy pair is passed explicitly; real chains stay refreshable inside the client.
        explicit.update(aws_access_key_id="test", aws_secret_access_key="test")
    client = session.client(
        service,
        endpoint_url=endpoint_url,
        region_name=signing.region,
        config=Config(user_agent_extra=f"stillframe/{__version__}"),
        **explicit,
    )
    client.meta.events.register("before-sign", _signing_name_setter(signing.signing_name))
    return client


def _signing_name_setter(signing_name: str) -> Any:
    def set_signing_name(request: AWSRequest, **_: Any) -> None:
        request.context.setdefault("signing", {})["signing_name"] = signing_name

    return set_signing_name
