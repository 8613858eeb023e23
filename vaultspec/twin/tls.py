"""The twin's own certificate authority and server certificate, made once per data dir.

The SDK refuses bearer tokens over plain HTTP, so the twin speaks TLS. On first start we write
`ca.pem` (public, what clients trust via REQUESTS_CA_BUNDLE / SSL_CERT_FILE / connection_verify),
`ca-key.pem` and `server-key.pem` (0600) and `server.pem` with SANs `localhost`, `vault.localhost`,
`*.vault.localhost`, `127.0.0.1` and `::1`. (`*.localhost` would not do: OpenSSL refuses a
wildcard directly under a single-label name.) Later starts reuse the files, so a trust bundle
handed out once stays valid. EC P-256 keys: generation is instant.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from vaultspec.twin.store import write_private_file

SERVER_NAMES = ("localhost", "vault.localhost", "*.vault.localhost")
SERVER_IPS = ("127.0.0.1", "::1")


@dataclass(frozen=True)
class TlsFiles:
    ca_cert: Path
    server_cert: Path
    server_key: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "vaultspec twin"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def ensure_tls(data_dir: Path) -> TlsFiles:
    """Return the TLS files in `data_dir`, creating whatever is missing."""
    files = TlsFiles(data_dir / "ca.pem", data_dir / "server.pem", data_dir / "server-key.pem")
    ca_key_path = data_dir / "ca-key.pem"
    now = dt.datetime.now(dt.UTC)
    if not (files.ca_cert.exists() and ca_key_path.exists()):
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = _name("vaultspec twin local CA")
        ca_cert = (
            x509.CertificateBuilder()
            .subject_name(ca_name)
            .issuer_name(ca_name)
            .public_key(ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        write_private_file(ca_key_path, _pem_key(ca_key))
        files.ca_cert.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
        files.server_cert.unlink(missing_ok=True)
    if files.server_cert.exists() and files.server_key.exists():
        current = x509.load_pem_x509_certificate(files.server_cert.read_bytes())
        if current.not_valid_after_utc > now + dt.timedelta(days=30):
            return files
    ca_key = serialization.load_pem_private_key(ca_key_path.read_bytes(), password=None)
    ca_cert = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
    key = ec.generate_private_key(ec.SECP256R1())
    sans: list[x509.GeneralName] = [x509.DNSName(n) for n in SERVER_NAMES]
    sans += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in SERVER_IPS]
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("localhost"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=825))
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key()),  # type: ignore[arg-type]
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())  # type: ignore[arg-type]
    )
    write_private_file(files.server_key, _pem_key(key))
    files.server_cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return files
