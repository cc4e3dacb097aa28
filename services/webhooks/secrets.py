"""Signing secrets at rest. A secret must be read back to sign with, so it cannot be hashed like
an API key: it is encrypted (Fernet: AES-128-CBC with an HMAC-SHA256 tag) under a key from the
settings (LOYALTY_WEBHOOK_KEYS), and a database dump alone signs nothing. Several keys may be
given, newest first: the first encrypts, any decrypts, so the settings key can be rotated."""

from __future__ import annotations

import secrets

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from domain.webhooks import SECRET_BYTES, format_secret


class SecretsNotConfigured(RuntimeError):
    pass


_box: MultiFernet | None = None


def configure(keys: list[str]) -> None:
    """At start-up, from the settings. Raises ValueError for a key that is not a Fernet key."""
    global _box
    _box = MultiFernet([Fernet(k.encode()) for k in keys])


def _keys() -> MultiFernet:
    if _box is None:
        raise SecretsNotConfigured("webhook secret keys were not configured at start-up")
    return _box


def new_secret() -> str:
    """`whsec_` and 32 random bytes in base64; shown to the admin once."""
    return format_secret(secrets.token_bytes(SECRET_BYTES))


def seal(secret: str) -> str:
    return _keys().encrypt(secret.encode()).decode()


def unseal(sealed: str) -> str:
    try:
        return _keys().decrypt(sealed.encode()).decode()
    except InvalidToken as error:
        raise SecretsNotConfigured(
            "a webhook secret does not decrypt with LOYALTY_WEBHOOK_KEYS (was the key changed "
            "without keeping the old one?)"
        ) from error


def generate_key() -> str:
    return Fernet.generate_key().decode()
