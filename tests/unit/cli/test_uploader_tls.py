"""put-media's HTTPS trusts AWS_CA_BUNDLE (as boto3 does) or an explicit CA bundle: a real TLS server, own CA."""

from __future__ import annotations

import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from stillframe.uploader import EndpointError, PutMediaPoster

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")


class _Ack(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        body = b'{"EventType": "PERSISTED"}\n'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """An HTTPS server on 127.0.0.1 with a fresh self-signed certificate; yields (URL, certificate file)."""
    where = tmp_path_factory.mktemp("tls")
    cert, key = where / "cert.pem", where / "key.pem"
    request = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"]
    subprocess.run(
        ["openssl", *request, "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ack)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}", cert
    server.shutdown()
    server.server_close()


def post(url: str, **kwargs: Any) -> int:
    poster = PutMediaPoster(url, None, timeout_s=10, **kwargs)
    try:
        return poster.post({"Content-Type": "application/octet-stream"}, b"bytes").status
    finally:
        poster.close()


def test_an_unknown_ca_is_refused(tls_server: tuple[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_CA_BUNDLE", raising=False)
    with pytest.raises(EndpointError, match="certificate verify failed"):
        post(tls_server[0])


def test_aws_ca_bundle_is_trusted(tls_server: tuple[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_CA_BUNDLE", str(tls_server[1]))
    assert post(tls_server[0]) == 200


def test_an_explicit_bundle_is_trusted(tls_server: tuple[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_CA_BUNDLE", raising=False)
    assert post(tls_server[0], ca_bundle=str(tls_server[1])) == 200


def test_put_media_refuses_a_missing_bundle(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from stillframe.cli.main import main

    clip = tmp_path / "clip.mkv"
    clip.write_bytes(b"x")
    args = ["put-media", "--endpoint-url", "https://127.0.0.1:1", "--stream", "s", "--ca-bundle", "/nope.pem"]
    assert main([*args, str(clip)]) == 2
    assert "--ca-bundle /nope.pem: not a readable PEM file" in capsys.readouterr().err
