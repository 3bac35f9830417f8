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

:func:`load_certs` reads such a directory back and checks it (every file parses, keys
match their certificates, the chains and host names are right, the CA still has no
keyUsage, nothing expires within a day); :func:`load_or_generate_certs` reuses a valid
set and makes a new one otherwise, so a long-lived ``--state-dir`` keeps its CA.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_LOGGER = logging.getLogger(__name__)

VALID_DAYS = 30
MIN_REMAINING = dt.timedelta(days=1)  # a set expiring sooner is not reused


class CertError(ValueError):
    """A certificate directory cannot be reused; the message says why."""


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
        """The client certificate (PEM)."""
        return self.client.cert_pem

    @property
    def client_key_pem(self) -> str:
        """The client key (PEM)."""
        return self.client.key_pem

    @property
    def client_cert_path(self) -> Path:
        """The client certificate's file."""
        return self.client.cert_path

    @property
    def client_key_path(self) -> Path:
        """The client key's file."""
        return self.client.key_path

    @property
    def server_cert_path(self) -> Path:
        """The broker certificate's file."""
        return self.server.cert_path

    @property
    def server_key_path(self) -> Path:
        """The broker key's file."""
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
    path.chmod(mode)  # O_CREAT's mode does not apply to an existing file
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


def _read_cert(path: Path) -> tuple[str, x509.Certificate]:
    try:
        pem = path.read_text(encoding="ascii")
        return pem, x509.load_pem_x509_certificate(pem.encode())
    except (OSError, UnicodeError, ValueError) as err:
        raise CertError(f"{path.name}: {err}") from None


def _read_key(path: Path, cert: x509.Certificate) -> str:
    try:
        pem = path.read_text(encoding="ascii")
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (OSError, UnicodeError, ValueError, TypeError) as err:
        raise CertError(f"{path.name}: {err}") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise CertError(f"{path.name}: not an EC private key")
    spki = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    if key.public_key().public_bytes(*spki) != cert.public_key().public_bytes(*spki):
        raise CertError(f"{path.name} does not belong to its certificate")
    return pem


def _check_dates(name: str, cert: x509.Certificate, now: dt.datetime) -> None:
    if cert.not_valid_before_utc > now:
        raise CertError(f"{name} is not valid yet")
    if cert.not_valid_after_utc - now < MIN_REMAINING:
        raise CertError(f"{name} expires on {cert.not_valid_after_utc:%Y-%m-%d %H:%M} UTC")


def _check_issuer(name: str, cert: x509.Certificate, ca: x509.Certificate) -> None:
    try:
        cert.verify_directly_issued_by(ca)
    except (InvalidSignature, ValueError, TypeError):
        raise CertError(f"{name} is not signed by its CA") from None


def _hosts(cert: x509.Certificate) -> set[str]:
    try:
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return set()
    return {str(ip) for ip in names.get_values_for_type(x509.IPAddress)} | set(
        names.get_values_for_type(x509.DNSName)
    )


def load_certs(directory: str | Path) -> CertBundle:
    """Read back what :func:`generate_certs` wrote in ``directory``, checked.

    Raises :class:`CertError` (saying why) when a file is missing or unreadable, a key
    does not match its certificate, a certificate is not signed by its CA, has the wrong
    host names or expires within a day, or the CA has gained a keyUsage extension.
    """
    directory = Path(directory)
    now = dt.datetime.now(dt.UTC)
    ca_pem, ca = _read_cert(directory / "ca.crt")
    ca_key_pem = _read_key(directory / "ca.key", ca)
    wrong_ca_pem, wrong_ca = _read_cert(directory / "wrong-ca.crt")
    try:
        ca.extensions.get_extension_for_class(x509.KeyUsage)
    except x509.ExtensionNotFound:
        pass
    else:
        raise CertError("ca.crt has a keyUsage extension (the simulator's CA has none)")
    _check_dates("ca.crt", ca, now)
    _check_dates("wrong-ca.crt", wrong_ca, now)

    def pair(stem: str, issuer: x509.Certificate, hosts: set[str]) -> CertPair:
        cert_path, key_path = directory / f"{stem}.crt", directory / f"{stem}.key"
        cert_pem, cert = _read_cert(cert_path)
        key_pem = _read_key(key_path, cert)
        _check_dates(cert_path.name, cert, now)
        _check_issuer(cert_path.name, cert, issuer)
        if not hosts <= _hosts(cert):
            raise CertError(f"{cert_path.name} is not for {', '.join(sorted(hosts))}")
        return CertPair(cert_pem=cert_pem, key_pem=key_pem, cert_path=cert_path, key_path=key_path)

    return CertBundle(
        directory=directory,
        ca_pem=ca_pem,
        ca_path=directory / "ca.crt",
        ca_key_pem=ca_key_pem,
        server=pair("server", ca, {"127.0.0.1", "localhost"}),
        client=pair("client", ca, set()),
        other_host_server=pair("other-host-server", ca, {"broker.invalid"}),
        wrong_ca_pem=wrong_ca_pem,
        wrong_ca_path=directory / "wrong-ca.crt",
        wrong_server=pair("wrong-server", wrong_ca, {"127.0.0.1", "localhost"}),
    )


def load_or_generate_certs(directory: str | Path) -> tuple[CertBundle, bool]:
    """The certificates in ``directory`` if they are all there and valid, else new ones.

    Returns ``(bundle, reused)``. Nothing is reused from an incomplete or bad set: every
    file is written anew.
    """
    directory = Path(directory)
    if (directory / "ca.crt").exists():
        try:
            return load_certs(directory), True
        except CertError as err:
            _LOGGER.info("Making new simulator certificates in %s: %s", directory, err)
    return generate_certs(directory), False
