"""Password encryption of the app API's login (§1.3 of the API notes).

The mySigen web app does not send the password in clear: it encrypts it with
AES-128-CBC, key and IV both the ASCII bytes ``sigensigensigenp``, PKCS#7 padding,
standard Base64. This is obfuscation, not secrecy (the key is public); the northbound
API's password login takes the plain password instead.
"""

from __future__ import annotations

import base64
import binascii

from Crypto.Cipher import AES
from Crypto.Util.Padding import pad, unpad

from .errors import SigenValidationError

_KEY = b"sigensigensigenp"
_IV = _KEY
_BLOCK = AES.block_size


def encrypt_password(password: str) -> str:
    """Encrypt ``password`` the way the mySigen app does and return it Base64-encoded.

    >>> encrypt_password("password")
    'jK6OsIMmFy05SBGXEUD9pA=='
    """
    if not isinstance(password, str):
        raise SigenValidationError("The password must be a string")
    cipher = AES.new(_KEY, AES.MODE_CBC, iv=_IV)
    encrypted = cipher.encrypt(pad(password.encode("utf-8"), _BLOCK, style="pkcs7"))
    return base64.b64encode(encrypted).decode("ascii")


def decrypt_password(encrypted: str) -> str:
    """Reverse :func:`encrypt_password` (the simulator uses it to check a login).

    Raises :class:`SigenValidationError` when ``encrypted`` is not valid Base64 of a
    whole number of AES blocks with correct PKCS#7 padding and UTF-8 content.
    """
    try:
        raw = base64.b64decode(encrypted.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, AttributeError) as err:
        raise SigenValidationError("The encrypted password is not valid Base64") from err
    if not raw or len(raw) % _BLOCK:
        raise SigenValidationError(
            f"The encrypted password must be a non-zero multiple of {_BLOCK} bytes, got {len(raw)}"
        )
    cipher = AES.new(_KEY, AES.MODE_CBC, iv=_IV)
    try:
        return unpad(cipher.decrypt(raw), _BLOCK, style="pkcs7").decode("utf-8")
    except (ValueError, UnicodeDecodeError) as err:
        raise SigenValidationError(
            "The encrypted password does not decrypt to a valid password "
            "(wrong key or corrupted data)"
        ) from err
