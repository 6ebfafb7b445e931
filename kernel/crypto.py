"""Encryption of the few secrets the portal keeps (bank account numbers, customers' uploaded
documents), with Fernet.

PORTAL_ENCRYPTION_KEY holds one Fernet key or several, comma-separated, newest first: new
secrets are encrypted with the first, and every key still reads what it wrote. To rotate, put a
new key in front, run `reencrypt_secrets` (everything is then under the new key) and drop the
old one.
"""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def encryption_keys() -> list[str]:
    return [key.strip() for key in (settings.PORTAL_ENCRYPTION_KEY or "").split(",") if key.strip()]


def _fernet() -> MultiFernet:
    keys = encryption_keys()
    if not keys:
        if not settings.DEBUG:
            raise ImproperlyConfigured(
                "Set PORTAL_ENCRYPTION_KEY (a Fernet key) to keep bank account numbers."
            )
        # `make run` only (DEBUG on): a key derived from the development secret key.
        keys = [base64.urlsafe_b64encode(hashlib.sha256(settings.SECRET_KEY.encode()).digest()).decode()]
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except ValueError as exc:
        # Fernet's own message names no key; neither does this one.
        raise ImproperlyConfigured(
            "PORTAL_ENCRYPTION_KEY holds something that is not a Fernet key (32 url-safe base64-encoded bytes)."
        ) from exc


def encrypt(text: str) -> str:
    return _fernet().encrypt(text.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured(
            "A stored secret cannot be read with any PORTAL_ENCRYPTION_KEY key."
        ) from exc


def reencrypt(token: str) -> str:
    """The same secret under the newest key (MultiFernet.rotate): the text never leaves here."""
    try:
        return _fernet().rotate(token.encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured(
            "A stored secret cannot be read with any PORTAL_ENCRYPTION_KEY key."
        ) from exc


def key_is_newest(token: str | bytes) -> bool:
    """Whether a stored secret is already under the first key."""
    keys = encryption_keys()
    if not keys:
        return True
    try:
        Fernet(keys[0].encode()).decrypt(token.encode() if isinstance(token, str) else token)
    except InvalidToken:
        return False
    return True


def encrypt_bytes(data: bytes) -> bytes:
    return _fernet().encrypt(data)


def decrypt_bytes(token: bytes) -> bytes:
    try:
        return _fernet().decrypt(token)
    except InvalidToken as exc:
        raise ImproperlyConfigured(
            "A stored file cannot be read with any PORTAL_ENCRYPTION_KEY key."
        ) from exc


def reencrypt_bytes(token: bytes) -> bytes:
    try:
        return _fernet().rotate(token)
    except InvalidToken as exc:
        raise ImproperlyConfigured(
            "A stored file cannot be read with any PORTAL_ENCRYPTION_KEY key."
        ) from exc


# Each: (label, function() -> (re-encrypted, already under the newest key)). The apps that keep
# secrets register here; `reencrypt_secrets` runs them all.
REENCRYPTORS: list[tuple[str, object]] = []


def register_reencryptor(label: str, function) -> None:
    if all(existing is not function for _, existing in REENCRYPTORS):
        REENCRYPTORS.append((label, function))
