"""Sudo mode: the password entered in this session recently (DESIGN section 3).

A login opens the window (security/sources/session.py); ``POST /api/sudo``
and the pages' prompt open it again (:func:`open_sudo`), with the password
or, where the account has one, a second factor (DESIGN section 14).
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update

from .. import clock
from ..errors import ReauthRequired
from ..models import EventKind, LoginSession
from .identity import Identity


def window_end(now: datetime, sudo_seconds: int) -> datetime:
    """Until when a password entered ``now`` counts as just entered."""
    return now + timedelta(seconds=sudo_seconds)


def in_sudo(identity: Identity | None) -> bool:
    """Whether the session's sudo window is open (tokens never are in sudo)."""
    if identity is None or identity.session is None or identity.session.sudo_until is None:
        return False
    return identity.session.sudo_until > clock.now()


def require_sudo(request) -> None:
    """ReauthRequired unless the request's session is in sudo mode."""
    if not in_sudo(request.identity):
        raise ReauthRequired()


def open_sudo(request, method: str = "password") -> datetime:
    """Open the session's sudo window from now, and log it (with the
    ``method`` that proved it: password, totp or webauthn); until when."""
    identity = request.identity
    until = window_end(clock.now(), request.settings.sudo_seconds)
    request.dbsession.execute(
        update(LoginSession).where(LoginSession.id == identity.session.id).values(sudo_until=until)
    )
    identity.session.sudo_until = until
    request.bookkeeping.audit(EventKind.SUDO_SUCCESS, identity.user_id, session_id=identity.session.id,
                              method=method)
    return until
