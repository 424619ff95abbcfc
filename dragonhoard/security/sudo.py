"""Sudo mode: the password entered in this session recently (DESIGN section 3)."""
from __future__ import annotations

from .. import clock
from .identity import Identity


def in_sudo(identity: Identity | None) -> bool:
    """Whether the session's sudo window is open (tokens never are in sudo)."""
    if identity is None or identity.session is None or identity.session.sudo_until is None:
        return False
    return identity.session.sudo_until > clock.now()
