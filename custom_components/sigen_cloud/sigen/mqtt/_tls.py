"""The TLS context of the broker connections (blocking: build it in an executor).

``ssl.create_default_context`` with the given CA (a file, or PEM text through
``cadata``), the optional client certificate, and **only** ``VERIFY_X509_STRICT``
cleared: Sigen's CA certificate lacks the keyUsage extension, which strict mode
refuses. Certificate and host name verification stay on; nothing here switches them
off. A client certificate given as PEM text is written to a private temporary
directory (mode 0700, files 0600), loaded, and deleted at once (``load_cert_chain``
only reads files).
"""

from __future__ import annotations

import os
import shutil
import ssl
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import SigenValidationError

if TYPE_CHECKING:
    from .config import MQTTConfig


def build_tls_context(config: MQTTConfig) -> ssl.SSLContext:
    """The TLS context for ``config``'s certificates (reads files: not in the event loop).

    Raises :class:`SigenValidationError` when a certificate or key cannot be loaded.
    """
    try:
        if config.ca_cert_pem is not None:
            context = ssl.create_default_context(cadata=config.ca_cert_pem)
        else:
            context = ssl.create_default_context(cafile=config.ca_cert_path)
    except (ssl.SSLError, OSError, ValueError) as err:
        raise SigenValidationError(
            f"Cannot load the MQTT CA certificate: {err}; give the PEM file or text "
            "from the Sigen developer portal"
        ) from None
    context.verify_flags &= ~ssl.VERIFY_X509_STRICT
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    if config.client_cert_path is not None and config.client_key_path is not None:
        _load_client_cert(context, config.client_cert_path, config.client_key_path)
    elif config.client_cert_pem is not None and config.client_key_pem is not None:
        _load_client_pem(context, config.client_cert_pem, config.client_key_pem)
    return context


def _load_client_pem(context: ssl.SSLContext, cert_pem: str, key_pem: str) -> None:
    """Load a client certificate and key given as text, through private temporary files."""
    directory = Path(tempfile.mkdtemp(prefix="sigen-mqtt-"))  # mode 0700
    try:
        cert_path, key_path = directory / "client.crt", directory / "client.key"
        for path, text in ((cert_path, cert_pem), (key_path, key_pem)):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(text)
        _load_client_cert(context, cert_path, key_path)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _load_client_cert(
    context: ssl.SSLContext, cert: str | os.PathLike[str], key: str | os.PathLike[str]
) -> None:
    """Load the client certificate chain; a key that does not fit is a validation error."""
    try:
        context.load_cert_chain(cert, key)
    except (ssl.SSLError, OSError) as err:
        raise SigenValidationError(
            f"Cannot load the MQTT client certificate and key: {err}; check that the "
            "key belongs to the certificate"
        ) from None
