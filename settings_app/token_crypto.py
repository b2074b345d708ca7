"""Encryption of the HF token at rest (Fernet: AES-128-CBC + HMAC-SHA256, from `cryptography`).

Keys: MODELHUB_TOKEN_KEY (comma-separated, newest first, for rotation) or, when unset, a key derived
from SECRET_KEY. Decryption tries every key; encryption uses the first, so rotating means putting the
new key first, running `manage.py configure --reencrypt-token`, then dropping the old key.
"""

import base64
import hashlib

from django.conf import settings

# `cryptography` is imported when a token is encrypted or decrypted, not with the models: every
# management command loads this module, and most of them (verify, download without a saved token)
# never touch the token. That keeps ~15 ms off their start-up.


class TokenDecryptError(Exception):
    """The stored token was encrypted with a key that is no longer configured."""


def _fernet_key(material: str) -> bytes:
    # Fernet wants 32 url-safe base64 bytes; derive them so any passphrase-like value works as a key.
    digest = hashlib.sha256(b"modelhub-token-key:" + material.encode()).digest()
    return base64.urlsafe_b64encode(digest)


def _fernet():
    from cryptography.fernet import Fernet, MultiFernet

    materials = list(settings.MODELHUB_TOKEN_KEYS) or [settings.SECRET_KEY]
    return MultiFernet([Fernet(_fernet_key(m)) for m in materials])


def encrypt(token: str) -> str:
    return _fernet().encrypt(token.encode()).decode()


def decrypt(ciphertext: str) -> str:
    from cryptography.fernet import InvalidToken

    try:
        return _fernet().decrypt(ciphertext.encode()).decode()
    except InvalidToken as exc:
        raise TokenDecryptError(
            "The saved HF token cannot be decrypted with the configured key (SECRET_KEY or "
            "MODELHUB_TOKEN_KEY changed). Save the token again in Settings."
        ) from exc


def reencrypt(ciphertext: str) -> str:
    from cryptography.fernet import InvalidToken

    try:
        return _fernet().rotate(ciphertext.encode()).decode()
    except InvalidToken as exc:
        raise TokenDecryptError("The saved HF token cannot be decrypted with any configured key.") from exc
