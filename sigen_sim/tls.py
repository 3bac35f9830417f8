"""TLS contexts for the simulator's own MQTT connections (and the gate's listener).

The simulator's CA has no keyUsage extension, as Sigen's has none, so strict X.509
checking is switched off where the CA is verified.
"""

from __future__ import annotations

import ssl
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .certs import CertBundle


def client_context(certs: CertBundle, *, require_client_cert: bool) -> ssl.SSLContext:
    """A client's context: trusts the CA; presents the client certificate when required."""
    context = ssl.create_default_context(cafile=str(certs.ca_path))
    context.verify_flags &= ~ssl.VERIFY_X509_STRICT  # our CA has no keyUsage, as Sigen's
    if require_client_cert:
        context.load_cert_chain(certs.client_cert_path, certs.client_key_path)
    return context


def server_context(certs: CertBundle, *, require_client_cert: bool) -> ssl.SSLContext:
    """The broker's server side: its certificate; a client certificate when required."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certs.server_cert_path, certs.server_key_path)
    if require_client_cert:
        context.load_verify_locations(cafile=str(certs.ca_path))
        context.verify_flags &= ~ssl.VERIFY_X509_STRICT
        context.verify_mode = ssl.CERT_REQUIRED
    return context
