"""HTTPS for ``stillframe serve``: a local CA and a server certificate it signs, kept in a directory, or given files.

The CA (10 years) is made once and reused, so the ``AWS_CA_BUNDLE`` a client was pointed at stays valid across
restarts; the server certificate (397 days) is made again, by the same CA, when it no longer names every host asked
for or is within 30 days of expiring. Private keys are written mode 0600, each file whole (write, then rename), the
key and its certificate in one file, so a crash or a second serve never leaves a key beside someone else's
certificate. ``cryptography`` is needed only to make them (the ``serve`` extra); given files need only ``ssl``.
"""

from __future__ import annotations

import ipaddress
import os
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

CA_FILE = "ca.pem"  # the CA certificate alone: what clients trust (AWS_CA_BUNDLE)
CA_KEY_FILE = "ca-key.pem"  # the CA's key and certificate
SERVER_FILE = "server.pem"  # the server's key and certificate
DEFAULT_HOSTS = ("localhost", "127.0.0.1", "::1")
CA_LIFETIME = timedelta(days=3650)
SERVER_LIFETIME = timedelta(days=397)  # within what browsers and Apple's clients accept for a server certificate
RENEW_BEFORE = timedelta(days=30)


class TlsUnavailable(Exception):
    """The certificates cannot be made or loaded; the message says why and what to do."""


@dataclass(frozen=True)
class TlsFiles:
    """What the server loads (certificate chain and key) and the CA file clients should trust (None if not ours)."""

    cert: Path
    key: Path
    ca: Path | None = None


def server_context(files: TlsFiles) -> ssl.SSLContext:
    """A TLS 1.2+ server context for ``files``, speaking HTTP/1.1 only (ALPN)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_alpn_protocols(["http/1.1"])
    try:
        context.load_cert_chain(files.cert, files.key)
    except (OSError, ssl.SSLError) as exc:
        raise TlsUnavailable(f"cannot load the certificate {files.cert} with key {files.key}: {exc}") from exc
    return context


def wanted_hosts(*extra: str | None) -> list[str]:
    """localhost, 127.0.0.1, ::1 and each given host name or address; wildcards (0.0.0.0, ::) name no host."""
    hosts = list(DEFAULT_HOSTS)
    for host in extra:
        name = (host or "").strip("[]")
        if not name or name in hosts or _is_wildcard(name):
            continue
        hosts.append(name)
    return hosts


def ensure_local_ca(directory: Path, hosts: Iterable[str], *, now: datetime | None = None) -> TlsFiles:
    """The CA and a server certificate for ``hosts`` in ``directory``, made or renewed as needed (module docstring)."""
    now = now or datetime.now(UTC)
    ca_key, ca_cert = _load_or_make_ca(directory, now)
    server_file = directory / SERVER_FILE
    names = list(hosts)
    if not _server_cert_fits(server_file, ca_cert, names, now):
        _write_private(server_file, *_issue_server(ca_key, ca_cert, names, now))
    ca_file = directory / CA_FILE
    ca_pem = ca_cert.public_bytes(_serialization().Encoding.PEM)
    if not ca_file.is_file() or ca_file.read_bytes() != ca_pem:
        _write(ca_file, ca_pem, mode=0o644)
    return TlsFiles(cert=server_file, key=server_file, ca=ca_file)


def _load_or_make_ca(directory: Path, now: datetime) -> tuple[Any, Any]:
    x509 = _x509()
    path = directory / CA_KEY_FILE
    if path.is_file():
        data = path.read_bytes()
        try:
            key = _serialization().load_pem_private_key(data, password=None)
            cert = x509.load_pem_x509_certificate(data)
        except ValueError as exc:
            message = f"{path} is not a CA key and certificate (delete its directory to have a new CA made)"
            raise TlsUnavailable(message) from exc
        return key, cert
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise TlsUnavailable(f"cannot create {directory}: {exc.strerror or exc}") from exc
    key, cert = _make_ca(now)
    _write_private(path, key, cert)
    return key, cert


def _make_ca(now: datetime) -> tuple[Any, Any]:
    x509 = _x509()
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, f"Stillframe local CA {os.urandom(4).hex()}")])
    cert = (
        _builder(name, name, key.public_key(), now, CA_LIFETIME)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(x509, cert_sign=True), critical=True)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _issue_server(ca_key: Any, ca_cert: Any, hosts: list[str], now: datetime) -> tuple[Any, Any]:
    x509 = _x509()
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, hosts[0])])
    cert = (
        _builder(subject, ca_cert.subject, key.public_key(), now, SERVER_LIFETIME)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(x509, cert_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName([_general_name(x509, host) for host in hosts]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return key, cert


def _builder(subject: Any, issuer: Any, public_key: Any, now: datetime, lifetime: timedelta) -> Any:
    x509 = _x509()
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))  # a client whose clock is a little behind still accepts it
        .not_valid_after(now + lifetime)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )


def _key_usage(x509: Any, *, cert_sign: bool) -> Any:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _server_cert_fits(path: Path, ca_cert: Any, hosts: list[str], now: datetime) -> bool:
    """True when ``path`` holds a certificate by this CA, naming every host, not about to expire."""
    x509 = _x509()
    try:
        data = path.read_bytes()
        cert = x509.load_pem_x509_certificate(data)
        _serialization().load_pem_private_key(data, password=None)
        cert.verify_directly_issued_by(ca_cert)
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (OSError, ValueError, TypeError, x509.ExtensionNotFound, _invalid_signature()):
        return False
    have = {str(value) for value in names.get_values_for_type(x509.DNSName)}
    have |= {str(value) for value in names.get_values_for_type(x509.IPAddress)}
    wanted = {str(ipaddress.ip_address(host)) if is_ip(host) else host for host in hosts}
    return wanted <= have and cert.not_valid_after_utc - RENEW_BEFORE > now


def _general_name(x509: Any, host: str) -> Any:
    return x509.IPAddress(ipaddress.ip_address(host)) if is_ip(host) else x509.DNSName(host)


def _write_private(path: Path, key: Any, cert: Any) -> None:
    serialization = _serialization()
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    _write(path, key_pem + cert.public_bytes(serialization.Encoding.PEM), mode=0o600)


def _write(path: Path, data: bytes, *, mode: int) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    except OSError as exc:
        raise TlsUnavailable(f"cannot write {path}: {exc.strerror or exc}") from exc


def is_ip(host: str) -> bool:
    """True when ``host`` is an IPv4 or IPv6 address (without brackets), not a name."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _is_wildcard(host: str) -> bool:
    return is_ip(host) and ipaddress.ip_address(host).is_unspecified


def _x509() -> Any:
    try:
        from cryptography import x509
    except ImportError as exc:
        raise TlsUnavailable(
            "--https makes its certificate with the `cryptography` package, which is not installed: "
            "pip install 'stillframe[serve]', or give --tls-cert and --tls-key"
        ) from exc
    return x509


def _serialization() -> Any:
    from cryptography.hazmat.primitives import serialization

    return serialization


def _invalid_signature() -> type[Exception]:
    from cryptography.exceptions import InvalidSignature

    return InvalidSignature
