"""What web pages may do with ``stillframe serve``: the Host it answers to, the Origins it serves, the bodies it reads.

A server without authentication trusts whoever reaches it; a browser reaches it on behalf of any page. So, before
anything else, such a server refuses

- a ``Host`` that is not one of its names (loopback names, an IP address, ``--host``, ``--public-url``'s host, this
  machine's name, ``--allow-host``): a DNS-rebinding page reaches it under the attacker's name;
- an ``Origin`` other than a loopback page, the server's own pages (the Origin is the Host it came to) or an
  ``--allow-origin``: a cross-site page's request;
- a JSON operation's body whose Content-Type is not JSON (none at all is fine: it is no browser's simple request),
  as forms and ``text/plain`` are what a page can post without asking first.

A server that checks signatures needs none of it: a foreign page cannot sign. It answers every origin as KVS does
(``api.cors``). Either way ``OPTIONS`` is answered here, before the signature check a preflight cannot pass.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from stillframe.api.cors import ALLOW_HEADERS, ALLOW_METHODS, EXPOSE_HEADERS, MAX_AGE_S
from stillframe.errors import BrowserRefusedError, StillframeError, UnsupportedContentTypeError
from stillframe.server.request_log import operation_of
from stillframe.server.tls import is_ip

Headers = Sequence[tuple[str, str]]

# Bodies of these types are read as JSON; KVS clients send application/json (boto3, the AWS CLI, the JS SDK v3).
_JSON_TYPES = ("application/json", "application/x-amz-json-1.0", "application/x-amz-json-1.1")
_NOT_JSON_OPERATIONS = ("PutMedia",)  # its body is media


@dataclass(frozen=True)
class BrowserPolicy:
    """The checks and CORS answers for browsers; ``authenticated`` servers check nothing and answer every origin.

    ``hosts``: names the server answers to besides loopback names and IP addresses (lowercase, no port).
    ``origins``: origins served besides loopback ones and the server's own (``scheme://host[:port]``, lowercase).
    """

    authenticated: bool = False
    hosts: frozenset[str] = frozenset()
    origins: frozenset[str] = frozenset()

    def refusal(self, method: str, target: str, headers: Headers) -> StillframeError | None:
        """Why a request must not go on (a foreign Host, Origin or body type), or None."""
        if self.authenticated:
            return None
        host = _header(headers, "Host")
        if host is not None and not self._answers_to(host):
            return BrowserRefusedError(
                f"This server has no authentication and does not answer to the host name {host!r} (a page of another "
                "site can reach it under such a name: DNS rebinding). Use a name it answers to (localhost, an IP "
                "address, --host, the host of --public-url), allow this one with --allow-host, or require signatures "
                "(--keys-file, --access-key-id)."
            )
        origin = _header(headers, "Origin")
        if origin is not None and not self.serves(origin, host):
            return BrowserRefusedError(
                f"This server has no authentication and does not take requests from pages of {origin}: only from "
                f"loopback pages and its own. Allow that origin with --allow-origin {origin}, or require signatures "
                "(--keys-file, --access-key-id)."
            )
        content_type = _header(headers, "Content-Type")
        if method == "POST" and content_type is not None and not _is_json_body(target, content_type):
            return UnsupportedContentTypeError(
                f"The body of this operation is JSON; Content-Type {content_type!r} is not read as JSON. Send "
                "Content-Type: application/json (what the AWS SDKs send)."
            )
        return None

    def serves(self, origin: str, host: str | None) -> bool:
        """True for a loopback origin (any port), the server's own (its netloc is the Host) or an allowed one."""
        normal = origin.strip().lower().rstrip("/")
        parts = urlsplit(normal)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.path or parts.query:
            return False  # "null" (sandboxed frames, files) and anything that is no origin
        if self.authenticated or normal in self.origins or _is_loopback(parts.hostname):
            return True
        return host is not None and parts.netloc == host.strip().lower()

    def cors_headers(self, headers: Headers, *, preflight: bool = False) -> list[tuple[str, str]]:
        """The CORS headers of an answer to a request with these headers (none when it has no Origin we serve)."""
        origin = _header(headers, "Origin")
        if origin is None or not self.serves(origin, _header(headers, "Host")):
            return []
        if self.authenticated:
            answer = [("Access-Control-Allow-Origin", "*")]
        else:  # only the origins served: the answer varies with the Origin
            answer = [("Access-Control-Allow-Origin", origin), ("Vary", "Origin")]
        if preflight:
            asked = _header(headers, "Access-Control-Request-Headers")
            answer += [
                ("Access-Control-Allow-Methods", ALLOW_METHODS),
                ("Access-Control-Allow-Headers", asked or ",".join(ALLOW_HEADERS)),  # KVS allows what is asked
                ("Access-Control-Max-Age", str(MAX_AGE_S)),
            ]
        answer.append(("Access-Control-Expose-Headers", ",".join(EXPOSE_HEADERS)))
        return answer

    def _answers_to(self, host: str) -> bool:
        name = _host_name(host)
        # A page sends an address as Host only when it was loaded from that address: from this server itself.
        return is_ip(name) or name == "localhost" or name.endswith(".localhost") or name in self.hosts


def policy_for(*, authenticated: bool, hosts: Iterable[str | None] = (), origins: Iterable[str] = ()) -> BrowserPolicy:
    """The policy for a server answering to ``hosts`` (besides every address; None skipped) and serving ``origins``."""
    names = {_host_name(host) for host in hosts if host}
    names = {name for name in names if name and not is_ip(name)}  # every address is answered already
    allowed = {origin.strip().lower().rstrip("/") for origin in origins}
    return BrowserPolicy(authenticated=authenticated, hosts=frozenset(names), origins=frozenset(allowed))


def origin_problem(origin: str) -> str | None:
    """Why ``origin`` cannot be allowed (for ``--allow-origin``), or None: it must be ``http(s)://host[:port]``."""
    if origin.strip() == "*":
        return (
            "'*' would let every web page use a server without authentication; "
            "require signatures (--keys-file) to open it to every origin"
        )
    parts = urlsplit(origin.strip().rstrip("/"))
    try:
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        port_ok = False
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path or parts.query or not port_ok:
        return f"{origin!r} is not an origin: give scheme://host[:port], e.g. https://app.example"
    return None


def is_preflight(method: str) -> bool:
    """OPTIONS is answered by the server itself: a preflight carries no signature and names no operation."""
    return method == "OPTIONS"


def _header(headers: Headers, name: str) -> str | None:
    lowered = name.lower()
    return next((value for key, value in headers if key.lower() == lowered), None)


def _host_name(host: str) -> str:
    """The name of a Host header or URL host, lowercase, without port, brackets or a trailing dot."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    if host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host.rstrip(".")


def _is_loopback(name: str) -> bool:
    name = name.strip("[]")
    if name == "localhost" or name.endswith(".localhost"):  # browsers resolve *.localhost to loopback themselves
        return True
    return is_ip(name) and ipaddress.ip_address(name).is_loopback


def _is_json_body(target: str, content_type: str) -> bool:
    if operation_of(target) in _NOT_JSON_OPERATIONS:
        return True
    main = content_type.split(";", 1)[0].strip().lower()
    return main in _JSON_TYPES or (main.startswith("application/") and main.endswith("+json"))
