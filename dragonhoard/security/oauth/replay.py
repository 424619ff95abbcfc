"""A rotated refresh token's answer, kept for the client's retry.

DESIGN section 15: a refresh token presented again within 10 seconds of its
first use gets the same answer. The answer holds live tokens, so it is
stored encrypted (Fernet, from ``cryptography``) under a key derived (HKDF)
from the old refresh token itself: only whoever holds that token can read
it, and the database alone gives nothing away.
"""
from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_INFO = b"dragonhoard refresh-token replay answer"


def _fernet(refresh_token: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(
        refresh_token.encode("utf-8"))
    return Fernet(base64.urlsafe_b64encode(key))


def seal(refresh_token: str, answer: str) -> str:
    return _fernet(refresh_token).encrypt(answer.encode("utf-8")).decode("ascii")


def open_sealed(refresh_token: str, sealed: str) -> str | None:
    """The answer, or None when ``sealed`` is not this token's."""
    try:
        return _fernet(refresh_token).decrypt(sealed.encode("ascii")).decode("utf-8")
    except (InvalidToken, ValueError):
        return None
