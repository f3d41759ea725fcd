"""Personal data at rest (SEC-4): encrypted columns and keyed search hashes.

Values are encrypted with Fernet (AES-128-CBC + HMAC-SHA256, from the maintained
``cryptography`` package) under ``settings.FIELD_ENCRYPTION_KEYS``; the first key
encrypts, every key decrypts, so a key rotates by putting a new one in front.
Encrypted values cannot be compared in SQL, so each searchable value also gets a
keyed hash (HMAC-SHA256 under ``settings.SEARCH_HASH_KEY``) for exact matches; the
hash reveals nothing without the key, unlike a plain hash of an 11-digit phone.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in keys])


def encrypt(value: str) -> str:
    if not value:
        return ""
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS)).encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS)).decrypt(token.encode()).decode()
    except InvalidToken as exc:  # a wrong or missing key must fail loudly, never show garbage
        raise ValueError("An encrypted value could not be decrypted with FIELD_ENCRYPTION_KEYS.") from exc


def search_hash(value: str) -> str:
    """Keyed hash of a normalised value for exact-match lookups; empty for an empty value."""
    if not value:
        return ""
    return hmac.new(settings.SEARCH_HASH_KEY.encode(), value.encode(), hashlib.sha256).hexdigest()


class EncryptedTextField(models.TextField):
    """A text column stored encrypted; Python code sees the plain value.

    It cannot be filtered on (every encryption of a value differs): store a
    ``search_hash`` beside it for lookups.
    """

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        return decrypt(value) if value else value

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        return encrypt(value) if value else value


def mask_phone(e164: str) -> str:
    """138****5678 for a mainland mobile, +44******0123 style otherwise: enough to recognise, not to call."""
    if not e164:
        return ""
    if e164.startswith("+86") and len(e164) == 14:
        national = e164[3:]
        return f"{national[:3]}****{national[-4:]}"
    return f"{e164[:3]}{'*' * max(len(e164) - 7, 2)}{e164[-4:]}"


def mask_id_number(value: str) -> str:
    """First three and last four characters (the check digit stays visible)."""
    if not value:
        return ""
    if len(value) <= 7:
        return "*" * len(value)
    return f"{value[:3]}{'*' * (len(value) - 7)}{value[-4:]}"
