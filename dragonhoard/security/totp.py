"""TOTP (RFC 6238) through pyotp: 30-second steps, 6 digits, one step either
way; the secret encrypted at rest with AES-GCM under a key derived from the
application secret (HKDF-SHA256 with a fixed label), never stored in clear.

Replays are refused by the caller: it stores the last step accepted and
accepts only a later one (security/second_factor.py).
"""
from __future__ import annotations

import base64
import hmac
import io
import os
from datetime import datetime

import pyotp
import segno
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

ISSUER = "dragonhoard"
STEP_SECONDS = 30
DIGITS = 6
#: Steps accepted either side of now: a clock a little off, a code typed slowly.
WINDOW = 1
#: The key's label: a key derived for anything else is another key.
KEY_INFO = b"dragonhoard totp secret encryption v1"
VERSION = "v1"


def new_secret() -> str:
    """160 random bits in base32, as authenticator apps take them."""
    return pyotp.random_base32(32)


def _key(app_secret: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=KEY_INFO).derive(
        app_secret.encode("utf-8"))


def encrypt(app_secret: str, user_id: int, secret: str) -> str:
    """``v1:`` + base64url(nonce + ciphertext); bound to the user (the
    associated data), so that a row copied to another user decrypts to nothing."""
    nonce = os.urandom(12)
    sealed = AESGCM(_key(app_secret)).encrypt(nonce, secret.encode("ascii"), _aad(user_id))
    return f"{VERSION}:" + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")


def decrypt(app_secret: str, user_id: int, stored: str) -> str | None:
    """The secret, or None when it cannot be read (another application
    secret, another user's row, a damaged value): no code matches then."""
    version, _, payload = stored.partition(":")
    if version != VERSION:
        return None
    try:
        raw = base64.urlsafe_b64decode(payload.encode("ascii"))
        return AESGCM(_key(app_secret)).decrypt(raw[:12], raw[12:], _aad(user_id)).decode("ascii")
    except (InvalidTag, ValueError, UnicodeError):
        return None


def _aad(user_id: int) -> bytes:
    return f"dragonhoard user {user_id}".encode("ascii")


def step_at(when: datetime) -> int:
    return int(when.timestamp()) // STEP_SECONDS


def normalize(code: str) -> str | None:
    """Six ASCII digits (spaces allowed between them), else None."""
    digits = "".join(code.split())
    if len(digits) != DIGITS or not digits.isascii() or not digits.isdigit():
        return None
    return digits


def matching_step(secret: str, code: str, when: datetime) -> int | None:
    """The step within the window whose code is ``code`` (the latest if several), or None."""
    digits = normalize(code)
    if digits is None:
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    now = step_at(when)
    found = None
    # Every candidate compared, in constant time, whatever matches.
    for step in range(now - WINDOW, now + WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), digits):
            found = step
    return found


def provisioning_uri(secret: str, account: str) -> str:
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=account, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """The QR code of ``uri`` as SVG markup (no style attribute, no script)."""
    buffer = io.BytesIO()
    segno.make(uri, error="m").save(buffer, kind="svg", xmldecl=False, scale=4, border=4,
                                    dark="#000", light="#fff", nl=False)
    return buffer.getvalue().decode("utf-8")


def qr_data_uri(svg: str) -> str:
    """For an ``<img src>``: the CSP allows ``data:`` images."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")
