"""Creating users, and what an operator does to them."""
from __future__ import annotations

import re

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from .. import clock
from ..errors import Conflict, Invalid
from ..models import EventKind, LoginSession, User, canonical_email, canonical_username
from ..schemas.users import USERNAME_PATTERN
from ..security.bookkeeping import Bookkeeping
from ..security.passwords import Passwords

USERNAME = re.compile(USERNAME_PATTERN)


def check_available(dbsession: Session, *, email: str | None = None, username: str | None = None,
                    exclude_user_id: int | None = None) -> None:
    """Raise :class:`Conflict` when the email or username belongs to another user."""
    conditions = []
    if email is not None:
        conditions.append(User.email_canonical == canonical_email(email))
    if username is not None:
        conditions.append(User.username_canonical == canonical_username(username))
    if not conditions:
        return
    query = select(User.id, User.email_canonical).where(or_(*conditions))
    for user_id, found_email in dbsession.execute(query):
        if user_id == exclude_user_id:
            continue
        if email is not None and found_email == canonical_email(email):
            raise Conflict("This email address is already registered.", "email")
        raise Conflict("This username is taken.", "username")


def register_user(dbsession: Session, events: Bookkeeping, passwords: Passwords, *, email: str,
                  username: str, password: str, is_admin: bool = False,
                  by: str | None = None) -> User:
    """A new active user (``by``: who made it, when not the user: operator, demo)."""
    problem = passwords.problem(password, [email, username, email.split("@")[0]])
    if problem:
        raise Invalid({"password": problem})
    check_available(dbsession, email=email, username=username)
    now = clock.now()
    user = User(
        password_hash=passwords.hash(password),
        password_changed_at=now,
        created_at=now,
        is_admin=is_admin,
        is_active=True,
    )
    user.set_email(email)
    user.set_username(username)
    dbsession.add(user)
    dbsession.flush()
    events.audit(EventKind.USER_REGISTERED, user.id, **({"by": by} if by else {}))
    return user


def edit_profile(dbsession: Session, events: Bookkeeping, user: User, changes: dict, *,
                 by_user_id: int) -> None:
    """Change the username and the email (each unique); an email change is logged."""
    check_available(dbsession, email=changes.get("email"), username=changes.get("username"),
                    exclude_user_id=user.id)
    if "username" in changes:
        user.set_username(changes["username"])
    if "email" in changes and changes["email"] != user.email:
        user.set_email(changes["email"])
        events.audit(EventKind.EMAIL_CHANGED, user.id, by_user_id=by_user_id)
    dbsession.flush()


def find_by_username(dbsession: Session, username: str) -> User | None:
    """The user named ``username``, compared casefolded (None for a name no
    user can have)."""
    if not USERNAME.fullmatch(username):
        return None
    return dbsession.scalars(
        select(User).where(User.username_canonical == canonical_username(username))
    ).first()


def set_admin(events: Bookkeeping, user: User, is_admin: bool, *,
              by_user_id: int | None = None) -> None:
    """Admin rights, given or taken, by an operator (the command line) or an
    admin (``by_user_id``); both leave an event in the user's log."""
    if user.is_admin == is_admin:
        return
    user.is_admin = is_admin
    kind = EventKind.USER_ADMIN_GRANTED if is_admin else EventKind.USER_ADMIN_REVOKED
    record_change(events, kind, user, by_user_id)


def revoke_sessions(dbsession: Session, user_id: int, *, keep_session_id: int | None = None) -> int:
    """Revoke the user's live sessions (all, or all but one); how many were live."""
    query = update(LoginSession).where(
        LoginSession.user_id == user_id, LoginSession.revoked_at.is_(None)
    )
    if keep_session_id is not None:
        query = query.where(LoginSession.id != keep_session_id)
    return dbsession.execute(query.values(revoked_at=clock.now())).rowcount


def set_active(dbsession: Session, events: Bookkeeping, user: User, active: bool, *,
               by_user_id: int | None = None) -> None:
    """Deactivating revokes every session and stops tokens and logins at once;
    reactivating lets the user log in again and revives tokens that are
    neither expired nor revoked. Both leave an event in the user's log (and,
    done by an admin, in theirs)."""
    user.is_active = active
    if not active:
        revoke_sessions(dbsession, user.id)
    record_change(events, EventKind.USER_ACTIVATED if active else EventKind.USER_DEACTIVATED, user,
                  by_user_id)


def record_change(events: Bookkeeping, kind: EventKind, user: User, by_user_id: int | None,
                  **details) -> None:
    """An operator's (``by_user_id`` None) or an admin's change to ``user``:
    in the user's log, and an admin's also in theirs (``admin:action``)."""
    if by_user_id is None:
        events.audit(kind, user.id, by="operator", **details)
        return
    events.audit(kind, user.id, by="admin", by_user_id=by_user_id, **details)
    events.audit(EventKind.ADMIN_ACTION, by_user_id, action=kind.value, target_user_id=user.id,
                 username=user.username)


def search_users(dbsession: Session, text: str, *, limit: int = 50) -> list[User]:
    """Users whose username or email contains ``text`` (casefolded), by username."""
    wanted = text.strip().casefold()
    query = select(User).order_by(User.username_canonical).limit(limit)
    if wanted:
        pattern = "%" + wanted.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(User.username_canonical.like(pattern, escape="\\"),
                                User.email_canonical.like(pattern, escape="\\")))
    return list(dbsession.scalars(query))
