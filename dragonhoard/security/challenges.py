"""WebAuthn challenges in the database: single-use, five minutes.

Any process may finish a ceremony another began: the browser's answer
names its challenge (in ``clientDataJSON``), found here by its SHA-256. A
challenge is consumed by one conditional UPDATE (``used_at IS NULL AND
expires_at > now``) on a connection of its own, committed at once, before
the answer is verified: a forged or failed answer uses it up too, and of two
requests with one answer only one finds it. A replay by pyramid_retry finds
the first attempt's outcome in the WSGI environ.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import update

from .. import clock
from ..models import WebAuthnChallenge
from .webauthn import signed_challenge

LIFETIME = timedelta(minutes=5)
_DONE = "dragonhoard.challenges"


def challenge_hash(challenge: bytes) -> str:
    return hashlib.sha256(challenge).hexdigest()


def issue(request, purpose: str, *, user_id: int | None = None, session_id: int | None = None,
          pending_login_id: int | None = None) -> bytes:
    """A new challenge for ``purpose``, bound to whom it is for; stored with
    the request's transaction."""
    challenge = secrets.token_bytes(32)
    now = clock.now()
    request.dbsession.add(WebAuthnChallenge(
        challenge_hash=challenge_hash(challenge), purpose=purpose, user_id=user_id,
        session_id=session_id, pending_login_id=pending_login_id, created_at=now,
        expires_at=now + LIFETIME,
    ))
    request.dbsession.flush()
    return challenge


@dataclass(frozen=True)
class Issued:
    """What a consumed challenge was issued for."""

    challenge: bytes
    user_id: int | None
    session_id: int | None
    pending_login_id: int | None


def consume(request, credential: Any, purpose: str) -> Issued | None:
    """Use up the challenge ``credential`` answers, if it was issued for
    ``purpose`` and is still live; None otherwise (or when there is none)."""
    challenge = signed_challenge(credential)
    if challenge is None:
        return None
    digest = challenge_hash(challenge)
    done = request.environ.setdefault(_DONE, {})
    key = (digest, purpose)
    if key not in done:
        done[key] = _consume(request.app.engine, digest, purpose)
    found = done[key]
    return None if found is None else Issued(challenge, *found)


def _consume(engine, digest: str, purpose: str) -> tuple | None:
    now = clock.now()
    with engine.begin() as conn:
        row = conn.execute(
            update(WebAuthnChallenge)
            .where(WebAuthnChallenge.challenge_hash == digest, WebAuthnChallenge.purpose == purpose,
                   WebAuthnChallenge.used_at.is_(None), WebAuthnChallenge.expires_at > now)
            .values(used_at=now)
            .returning(WebAuthnChallenge.user_id, WebAuthnChallenge.session_id,
                       WebAuthnChallenge.pending_login_id)
        ).first()
    return None if row is None else tuple(row)
