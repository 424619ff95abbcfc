"""The token format of DESIGN section 3, with known vectors."""
from __future__ import annotations

import hashlib
import zlib

import pytest

from dragonhoard.security import tokens

RANDOM = "0123456789abcdefghijABCDEFGHIJklmnopqrst"


def reference_checksum(random_part: str) -> str:
    """CRC32 in base62 (0-9, A-Z, a-z), six characters, written independently."""
    alphabet = "0123456789" + "ABCDEFGHIJKLMNOPQRSTUVWXYZ" + "abcdefghijklmnopqrstuvwxyz"
    number = zlib.crc32(random_part.encode())
    out = ""
    for _ in range(6):
        number, digit = divmod(number, 62)
        out = alphabet[digit] + out
    assert number == 0
    return out


def test_known_vectors():
    assert zlib.crc32(RANDOM.encode()) == 0x6D0F5A10
    assert tokens.checksum(RANDOM) == reference_checksum(RANDOM) == "1zpKRU"
    assert tokens.checksum("0" * 40) == reference_checksum("0" * 40) == "2kaqcA"
    assert tokens.base62(0, 6) == "000000"
    assert tokens.base62(61, 6) == "00000z"
    assert tokens.base62(62, 6) == "000010"
    assert tokens.base62(2**32 - 1, 6) == "4gfFC3"


def test_a_known_token_is_well_formed_and_hashes_to_sha256():
    token = "dhp_" + RANDOM + reference_checksum(RANDOM)
    assert len(token) == 50
    assert tokens.is_well_formed(token)
    assert tokens.hash_token(token) == hashlib.sha256(token.encode()).hexdigest()
    assert tokens.display_prefix(token) == "dhp_01234567"


def test_generated_tokens_are_well_formed_and_different():
    seen = {tokens.generate() for _ in range(200)}
    assert len(seen) == 200
    for token in seen:
        assert len(token) == 50 and token.startswith("dhp_") and tokens.is_well_formed(token)


def test_a_mistyped_token_is_caught_by_the_checksum():
    token = tokens.generate()
    position = 10
    replacement = "A" if token[position] != "A" else "B"
    mistyped = token[:position] + replacement + token[position + 1:]
    assert not tokens.is_well_formed(mistyped)
    swapped = token[:5] + token[6] + token[5] + token[7:]
    assert swapped == token or not tokens.is_well_formed(swapped)


@pytest.mark.parametrize("value", [
    "", "dhp_", "ghp_" + RANDOM + reference_checksum(RANDOM),
    "dhp_" + RANDOM + reference_checksum(RANDOM) + "x",
    "dhp_" + RANDOM[:-1] + "!" + reference_checksum(RANDOM),
    "dhp_" + RANDOM + "000000",
    "DHP_" + RANDOM + reference_checksum(RANDOM),
])
def test_malformed_tokens(value):
    assert not tokens.is_well_formed(value)
