"""Token formats, checksum, hashing (DESIGN sections 3 and 15).

A prefix + 40 random base62 characters + 6 base62 characters of CRC32 over
the random part: 50 characters. ``dhp_`` personal access tokens, ``dho_``
OAuth access tokens, ``dhr_`` OAuth refresh tokens, ``dhs_`` OAuth client
secrets. The checksum lets a typo, or a string that
only looks like a token, be refused without touching the database, and lets
secret scanners recognise real tokens.
"""
from __future__ import annotations

import hashlib
import secrets
import zlib
from datetime import timedelta

PREFIX = "dhp_"
OAUTH_ACCESS_PREFIX = "dho_"
OAUTH_REFRESH_PREFIX = "dhr_"
CLIENT_SECRET_PREFIX = "dhs_"
#: What a bearer credential may be: a personal or an OAuth access token.
BEARER_PREFIXES = (PREFIX, OAUTH_ACCESS_PREFIX)
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
RANDOM_LENGTH = 40
CHECKSUM_LENGTH = 6
TOKEN_LENGTH = len(PREFIX) + RANDOM_LENGTH + CHECKSUM_LENGTH
DISPLAY_PREFIX_LENGTH = 12
#: A token that expires within this long says so: the Dragonhoard-Token-Expires
#: header on every answer it authenticated, and a warning on the token page.
EXPIRY_NOTICE = timedelta(days=7)
_ALPHABET_SET = frozenset(ALPHABET)
_VALUES = {character: value for value, character in enumerate(ALPHABET)}


def base62(number: int, width: int) -> str:
    """``number`` in base62, left-padded with ``0`` to ``width`` characters."""
    if number < 0:
        raise ValueError("base62 encodes non-negative numbers")
    digits = []
    while number:
        number, rest = divmod(number, 62)
        digits.append(ALPHABET[rest])
    text = "".join(reversed(digits)) or "0"
    if len(text) > width:
        raise ValueError(f"{number} does not fit in {width} base62 characters")
    return text.rjust(width, "0")


def checksum(random_part: str) -> str:
    return base62(zlib.crc32(random_part.encode("ascii")), CHECKSUM_LENGTH)


def generate(prefix: str = PREFIX) -> str:
    """A new token, about 238 bits of randomness from ``secrets``."""
    random_part = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_LENGTH))
    return prefix + random_part + checksum(random_part)


def is_well_formed(token: str, prefixes: str | tuple[str, ...] = PREFIX) -> bool:
    """Right prefix, length, alphabet and checksum: worth a database look-up.
    (Every prefix is four characters long.)"""
    if len(token) != TOKEN_LENGTH or not token.startswith(prefixes):
        return False
    body = token[4:]
    if not _ALPHABET_SET.issuperset(body):
        return False
    random_part, check = body[:RANDOM_LENGTH], body[RANDOM_LENGTH:]
    # The checksum is no secret (anyone holding the token can compute it):
    # decoding it is cheaper than encoding the CRC, on every bearer request.
    value = 0
    for character in check:
        value = value * 62 + _VALUES[character]
    return value == zlib.crc32(random_part.encode("ascii"))


def hash_token(token: str) -> str:
    """What the database stores and looks up: SHA-256 of the whole token, hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def display_prefix(token: str) -> str:
    """Enough to recognise a token in a list, far too little to use it."""
    return token[:DISPLAY_PREFIX_LENGTH]
