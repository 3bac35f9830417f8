"""The app login's password encryption against the published vectors (§1.3)."""

from __future__ import annotations

import base64

import pytest

from sigen.crypto import decrypt_password, encrypt_password
from sigen.errors import SigenValidationError

VECTORS = [
    ("password", "jK6OsIMmFy05SBGXEUD9pA=="),
    ("Secret123!", "1dCSUK+Vx2IsrbSLDMSZRw=="),
    ("0123456789abcdef", "paQt1PwhakURXgKUcqkosG0swN6DK3H6WwocCV0XhYs="),
]


@pytest.mark.parametrize(("plain", "encrypted"), VECTORS)
def test_published_vectors(plain: str, encrypted: str) -> None:
    assert encrypt_password(plain) == encrypted
    assert decrypt_password(encrypted) == plain


def test_full_block_gets_a_whole_padding_block() -> None:
    assert len(base64.b64decode(encrypt_password("0123456789abcdef"))) == 32
    assert len(base64.b64decode(encrypt_password(""))) == 16


@pytest.mark.parametrize("plain", ["", "ü€🔋 unicode", "x" * 100, "with\nnewline"])
def test_round_trip(plain: str) -> None:
    encrypted = encrypt_password(plain)
    # standard Base64 alphabet, no IV prefix
    assert base64.b64decode(encrypted, validate=True)
    assert decrypt_password(encrypted) == plain


def test_encrypt_rejects_non_strings() -> None:
    with pytest.raises(SigenValidationError, match="must be a string"):
        encrypt_password(b"bytes")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("encrypted", "message"),
    [
        ("not base64!", "not valid Base64"),
        ("", "non-zero multiple of 16 bytes"),
        (base64.b64encode(b"short").decode(), "non-zero multiple of 16 bytes, got 5"),
        (base64.b64encode(b"\x00" * 16).decode(), "does not decrypt"),
    ],
)
def test_decrypt_rejects_garbage(encrypted: str, message: str) -> None:
    with pytest.raises(SigenValidationError, match=message):
        decrypt_password(encrypted)


def test_simulator_decrypts_what_we_encrypt() -> None:
    from sigen_sim.app_api import decrypt_password as sim_decrypt

    assert sim_decrypt(encrypt_password("demo-password")) == "demo-password"
