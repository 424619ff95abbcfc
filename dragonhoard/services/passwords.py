"""Changing a password: the rules the page and the JSON twin share."""
from __future__ import annotations

from sqlalchemy.orm import Session

from .. import clock
from ..errors import Invalid
from ..models import EventKind, User
from ..security.bookkeeping import Bookkeeping
from ..security.passwords import Passwords
from .users import revoke_sessions


def change_password(dbsession: Session, events: Bookkeeping, passwords: Passwords, user: User,
                    new_password: str) -> None:
    """Set a new password and end every session of the user's (the caller
    starts a new one for itself); tokens are kept."""
    problem = passwords.problem(new_password, [user.email, user.username])
    if problem:
        raise Invalid({"new_password": problem})
    if passwords.verify(user.password_hash, new_password):
        raise Invalid({"new_password": "Choose a password different from the current one."})
    user.password_hash = passwords.hash(new_password)
    user.password_changed_at = clock.now()
    revoke_sessions(dbsession, user.id)
    events.audit(EventKind.PASSWORD_CHANGED, user.id)
