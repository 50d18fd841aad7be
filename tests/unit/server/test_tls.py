"""The local CA of `serve --https`: made once, reused, and a server certificate naming the hosts asked for."""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509

from stillframe.server.tls import (
    CA_FILE,
    SERVER_FILE,
    TlsFiles,
    TlsUnavailable,
    ensure_local_ca,
    server_context,
    wanted_hosts,
)


def san_of(path: Path) -> set[str]:
    names = x509.load_pem_x509_certificate(path.read_bytes()).extensions.get_extension_for_class(
        x509.SubjectAlternativeName
    )
    return {str(value) for kind in (x509.DNSName, x509.IPAddress) for value in names.value.get_values_for_type(kind)}


def handshake(files: TlsFiles, *, cafile: Path, server_hostname: str) -> str:
    """Complete a TLS handshake over a socket pair, the client trusting ``cafile``; the protocol spoken."""
    server_side, client_side = socket.socketpair()
    tls_server = server_context(files).wrap_socket(server_side, server_side=True, do_handshake_on_connect=False)
    worker = threading.Thread(target=lambda: _quietly(tls_server.do_handshake), daemon=True)
    worker.start()
    client = ssl.create_default_context(cafile=str(cafile)).wrap_socket(client_side, server_hostname=server_hostname)
    try:
        return str(client.version())
    finally:
        client.close()
        worker.join(5)
        tls_server.close()


def _quietly(action: Callable[[], object]) -> None:
    with contextlib.suppress(ssl.SSLError, OSError):  # the client's side of the test says what went wrong
        action()


def test_the_certificate_names_localhost_the_loopbacks_and_the_host_but_no_wildcard(tmp_path: Path) -> None:
    # Given --host 0.0.0.0 and a public name / When the CA and certificate are made
    files = ensure_local_ca(tmp_path, wanted_hosts("0.0.0.0", "cams.example", None))

    # Then the certificate names every real host, and a client trusting only the CA accepts it
    assert san_of(files.cert) == {"localhost", "127.0.0.1", "::1", "cams.example"}
    assert files.ca == tmp_path / CA_FILE
    assert handshake(files, cafile=files.ca, server_hostname="cams.example").startswith("TLSv1.")
    # And private keys are readable by the owner only
    assert (tmp_path / SERVER_FILE).stat().st_mode & 0o077 == 0


def test_a_restart_reuses_the_ca_and_the_certificate(tmp_path: Path) -> None:
    first = ensure_local_ca(tmp_path, wanted_hosts())
    ca, cert = first.ca.read_bytes() if first.ca else b"", first.cert.read_bytes()

    again = ensure_local_ca(tmp_path, wanted_hosts())

    assert again.ca is not None and again.ca.read_bytes() == ca
    assert again.cert.read_bytes() == cert


def test_a_new_host_gets_a_new_certificate_from_the_same_ca(tmp_path: Path) -> None:
    first = ensure_local_ca(tmp_path, wanted_hosts())
    old_ca = first.ca.read_bytes() if first.ca else b""

    # When serve starts again with a --host the certificate does not name
    files = ensure_local_ca(tmp_path, wanted_hosts("192.0.2.7"))

    # Then the certificate is made again, by the CA clients already trust
    assert "192.0.2.7" in san_of(files.cert)
    assert files.ca is not None and files.ca.read_bytes() == old_ca
    assert handshake(files, cafile=files.ca, server_hostname="localhost")


def test_a_certificate_near_its_end_is_renewed(tmp_path: Path) -> None:
    long_ago = datetime.now(UTC) - timedelta(days=380)
    ensure_local_ca(tmp_path, wanted_hosts(), now=long_ago)
    old = (tmp_path / SERVER_FILE).read_bytes()

    files = ensure_local_ca(tmp_path, wanted_hosts())

    assert files.cert.read_bytes() != old
    assert x509.load_pem_x509_certificate(files.cert.read_bytes()).not_valid_after_utc > datetime.now(UTC)


def test_a_client_trusting_another_ca_is_refused(tmp_path: Path) -> None:
    files = ensure_local_ca(tmp_path / "one", wanted_hosts())
    other = ensure_local_ca(tmp_path / "two", wanted_hosts())

    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(files, cafile=other.ca or Path(), server_hostname="localhost")


def test_given_files_that_do_not_load_say_which(tmp_path: Path) -> None:
    cert = tmp_path / "cert.pem"
    cert.write_text("not a certificate")

    with pytest.raises(TlsUnavailable, match=r"cert\.pem"):
        server_context(TlsFiles(cert=cert, key=cert))


def test_a_damaged_ca_file_is_named(tmp_path: Path) -> None:
    ensure_local_ca(tmp_path, wanted_hosts())
    (tmp_path / "ca-key.pem").write_text("garbage")

    with pytest.raises(TlsUnavailable, match=r"ca-key\.pem"):
        ensure_local_ca(tmp_path, wanted_hosts())
