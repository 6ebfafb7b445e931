"""Encryption of the few secrets the portal keeps (bank account numbers), with Fernet."""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def _fernet() -> Fernet:
    key = settings.PORTAL_ENCRYPTION_KEY
    if not key:
        if not (settings.DEBUG or settings.DEMO_MODE):
            raise ImproperlyConfigured(
                "Set PORTAL_ENCRYPTION_KEY (a Fernet key) to keep bank account numbers."
            )
        # Development and tests only: a key derived from the (development) secret key.
        key = base64.urlsafe_b64encode(hashlib.sha256(settings.SECRET_KEY.encode()).digest()).decode()
    return Fernet(key.encode() if isinstance(key, str) else key)


def encrypt(text: str) -> str:
    return _fernet().encrypt(text.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured("A stored secret cannot be read with PORTAL_ENCRYPTION_KEY.") from exc
