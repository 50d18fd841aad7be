"""Write a throwaway CA and a LocalStack server certificate signed by it (used by `scripts/localstack.sh full`).

    localstack_cert.py OUT_DIR    ->  OUT_DIR/ca.pem (trust this) and OUT_DIR/server.pem (key + chain, for
                                      LocalStack's CUSTOM_SSL_CERT_PATH)

Runs with LocalStack's venv (it has `cryptography`). The server certificate names every host LocalStack's own
certificate covers that matters here, plus 127.0.0.1, so clients can verify TLS whichever form of URL they use.
"""

from __future__ import annotations

import datetime
import ipaddress
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

HOSTS = (
    "localhost",
    "localhost.localstack.cloud",
    "*.localhost.localstack.cloud",
    "*.execute-api.localhost.localstack.cloud",
    "*.s3.localhost.localstack.cloud",
)
VALID_FOR = datetime.timedelta(days=30)


def _certificate(
    subject: str, key: ec.EllipticCurvePrivateKey, issuer: x509.Name | None, issuer_key: ec.EllipticCurvePrivateKey
) -> x509.CertificateBuilder:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer or name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + VALID_FOR)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
    )


def write_certificates(out: Path) -> None:
    """Create OUT/ca.pem and OUT/server.pem (private key, server certificate, CA certificate)."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        _certificate("Stillframe LocalStack test CA", ca_key, None, ca_key)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )  # key_cert_sign, crl_sign
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [x509.DNSName(host) for host in HOSTS]
    names.append(x509.IPAddress(ipaddress.ip_address("127.0.0.1")))
    server = (
        _certificate("localhost", key, ca.subject, ca_key)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    out.mkdir(parents=True, exist_ok=True)
    (out / "ca.pem").write_bytes(ca.public_bytes(pem))
    key_pem = key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    server_pem = out / "server.pem"
    server_pem.write_bytes(key_pem + server.public_bytes(pem) + ca.public_bytes(pem))
    server_pem.chmod(0o600)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} OUT_DIR")
    write_certificates(Path(sys.argv[1]))
