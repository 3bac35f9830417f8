"""Certificates for the simulated MQTT broker, made with the ``cryptography`` package.

Like Sigen's real CA, the simulator's CA certificate has **no keyUsage extension**, so a
client that keeps OpenSSL's ``VERIFY_X509_STRICT`` flag refuses it; everything else
about it is ordinary (basicConstraints CA:TRUE, subject/authority key identifiers), so
strict mode fails for that one reason only.

:func:`generate_certs` writes a :class:`CertBundle` into a directory:

* ``ca`` - the CA (no keyUsage) that signs the server and client certificates;
* ``server`` - the broker's certificate for ``127.0.0.1`` and ``localhost``;
* ``client`` - a client certificate and key (for mutual TLS);
* ``other_host_server`` - signed by the right CA, but for ``broker.invalid`` only
  (a client must refuse it: wrong host name);
* ``wrong_ca`` and ``wrong_server`` - an unrelated CA and a server certificate for
  ``127.0.0.1`` signed by it (a client must refuse it: unknown CA).

Private keys are written with mode 0600.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALID_DAYS = 30


@dataclass(frozen=True, slots=True)
class CertPair:
    """A certificate and its private key, as PEM text and as files."""

    cert_pem: str
    key_pem: str
    cert_path: Path
    key_path: Path


@dataclass(frozen=True, slots=True)
class CertBundle:
    """Everything the broker and the tests need (PEM strings and file paths)."""

    directory: Path
    ca_pem: str
    ca_path: Path
    ca_key_pem: str
    server: CertPair
    client: CertPair
    other_host_server: CertPair
    wrong_ca_pem: str
    wrong_ca_path: Path
    wrong_server: CertPair

    # Shortcuts used by the tests and the integration's demo.
    @property
    def client_cert_pem(self) -> str:
        return self.client.cert_pem

    @property
    def client_key_pem(self) -> str:
        return self.client.key_pem

    @property
    def client_cert_path(self) -> Path:
        return self.client.cert_path

    @property
    def client_key_path(self) -> Path:
        return self.client.key_path

    @property
    def server_cert_path(self) -> Path:
        return self.server.cert_path

    @property
    def server_key_path(self) -> Path:
        return self.server.key_path


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Sigen Cloud Simulator"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _validity(builder: x509.CertificateBuilder) -> x509.CertificateBuilder:
    now = dt.datetime.now(dt.UTC)
    return builder.not_valid_before(now - dt.timedelta(days=1)).not_valid_after(
        now + dt.timedelta(days=VALID_DAYS)
    )


def _make_ca(common_name: str) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """A self-signed CA **without keyUsage** (as Sigen's)."""
    key = _key()
    builder = (
        _validity(x509.CertificateBuilder())
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    return builder.sign(key, hashes.SHA256()), key


def _make_leaf(
    common_name: str,
    ca: x509.Certificate,
    ca_key: ec.EllipticCurvePrivateKey,
    *,
    server: bool,
    hosts: tuple[str, ...] = (),
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = _key()
    usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
    builder = (
        _validity(x509.CertificateBuilder())
        .subject_name(_name(common_name))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=True,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
    )
    if hosts:
        names: list[x509.GeneralName] = []
        for host in hosts:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                names.append(x509.DNSName(host))
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(ca_key, hashes.SHA256()), key


def _cert_pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def _key_pem(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def _write(path: Path, text: str, mode: int) -> Path:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.chmod(path, mode)  # O_CREAT's mode does not apply to an existing file
    return path


def _pair(
    directory: Path, stem: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey
) -> CertPair:
    cert_pem, key_pem = _cert_pem(cert), _key_pem(key)
    return CertPair(
        cert_pem=cert_pem,
        key_pem=key_pem,
        cert_path=_write(directory / f"{stem}.crt", cert_pem, 0o644),
        key_path=_write(directory / f"{stem}.key", key_pem, 0o600),
    )


def generate_certs(directory: str | Path) -> CertBundle:
    """Create the CAs, server and client certificates in ``directory`` (made if missing)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    ca, ca_key = _make_ca("Sigen Simulator Root CA")
    wrong_ca, wrong_ca_key = _make_ca("Unrelated Root CA")
    server, server_key = _make_leaf(
        "127.0.0.1", ca, ca_key, server=True, hosts=("127.0.0.1", "localhost")
    )
    client, client_key = _make_leaf("sim-client", ca, ca_key, server=False)
    other, other_key = _make_leaf(
        "broker.invalid", ca, ca_key, server=True, hosts=("broker.invalid",)
    )
    wrong_server, wrong_server_key = _make_leaf(
        "127.0.0.1", wrong_ca, wrong_ca_key, server=True, hosts=("127.0.0.1", "localhost")
    )
    ca_pem = _cert_pem(ca)
    ca_key_pem = _key_pem(ca_key)
    _write(directory / "ca.key", ca_key_pem, 0o600)
    wrong_ca_pem = _cert_pem(wrong_ca)
    return CertBundle(
        directory=directory,
        ca_pem=ca_pem,
        ca_path=_write(directory / "ca.crt", ca_pem, 0o644),
        ca_key_pem=ca_key_pem,
        server=_pair(directory, "server", server, server_key),
        client=_pair(directory, "client", client, client_key),
        other_host_server=_pair(directory, "other-host-server", other, other_key),
        wrong_ca_pem=wrong_ca_pem,
        wrong_ca_path=_write(directory / "wrong-ca.crt", wrong_ca_pem, 0o644),
        wrong_server=_pair(directory, "wrong-server", wrong_server, wrong_server_key),
    )
