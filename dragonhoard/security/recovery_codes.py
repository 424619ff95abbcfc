"""Recovery codes: ten single-use codes, shown once, stored argon2id-hashed
with the application's password parameters (security/passwords.py).

A code is ten characters from an alphabet without look-alikes (49 bits),
shown as ``xxxxx-xxxxx``; what a user types is compared without case,
spaces or dashes.
"""
from __future__ import annotations

import secrets

COUNT = 10
ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
LENGTH = 10


def generate() -> list[str]:
    return [_shown("".join(secrets.choice(ALPHABET) for _ in range(LENGTH))) for _ in range(COUNT)]


def _shown(code: str) -> str:
    return f"{code[:5]}-{code[5:]}"


def normalize(typed: str) -> str | None:
    """The code as hashed, or None when it cannot be one (no hash is tried)."""
    code = "".join(typed.split()).replace("-", "").lower()
    if len(code) != LENGTH or any(ch not in ALPHABET for ch in code):
        return None
    return code
