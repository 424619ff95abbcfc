"""Second factors (DESIGN section 14): enrolment, removal, recovery codes,
the operator's reset; each write with its security-log event.

Every change of factors locks the user's row first (models/locks.py) and
sets ``users.mfa_enabled`` in the same transaction, so that the one
statement that authenticates a request also says whether its user has a
second factor, on every process, from the next request on. The account's
first factor comes with ten recovery codes; removing its last factor takes
them away too.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, exists, select, update
from sqlalchemy.orm import Session

from .. import clock
from ..errors import Conflict, Invalid
from ..models import (
    EventKind,
    Membership,
    PendingLogin,
    Project,
    RecoveryCode,
    TotpAuthenticator,
    User,
    WebAuthnCredential,
)
from ..models.locks import lock_row
from ..security import recovery_codes, totp
from ..security.bookkeeping import Bookkeeping
from ..security.passwords import Passwords
from ..security.second_factor import unused_codes
from ..security.webauthn import NewCredential
from .users import record_change, revoke_sessions


@dataclass(frozen=True)
class Status:
    totp: bool
    credentials: list[WebAuthnCredential]
    recovery_codes_left: int
    #: Projects of the user's that require a second factor (their slugs).
    projects_requiring: list[str]


def status(dbsession: Session, user_id: int) -> Status:
    confirmed = dbsession.scalar(select(exists().where(
        TotpAuthenticator.user_id == user_id, TotpAuthenticator.confirmed_at.is_not(None))))
    requiring = dbsession.scalars(
        select(Project.slug).join(Membership, Membership.project_id == Project.id)
        .where(Membership.user_id == user_id, Project.require_mfa.is_(True))
        .order_by(Project.slug)
    ).all()
    return Status(bool(confirmed), credentials_of(dbsession, user_id),
                  unused_codes(dbsession, user_id), list(requiring))


def credentials_of(dbsession: Session, user_id: int) -> list[WebAuthnCredential]:
    return list(dbsession.scalars(
        select(WebAuthnCredential).where(WebAuthnCredential.user_id == user_id)
        .order_by(WebAuthnCredential.created_at, WebAuthnCredential.id)
    ))


def _lock(dbsession: Session, user: User) -> bool:
    """Lock the user's row; whether the account has a second factor now."""
    lock_row(dbsession, User, user.id)
    return _has_factor(dbsession, user.id)


def _has_factor(dbsession: Session, user_id: int) -> bool:
    return bool(dbsession.scalar(select(
        exists().where(WebAuthnCredential.user_id == user_id)
        | exists().where(TotpAuthenticator.user_id == user_id,
                         TotpAuthenticator.confirmed_at.is_not(None))
    )))


def _settle(dbsession: Session, events: Bookkeeping, passwords: Passwords, user: User,
            had_factor: bool) -> list[str] | None:
    """Set ``mfa_enabled`` after a change; the new recovery codes when this
    was the account's first factor. Without a factor, codes are useless: gone."""
    has_factor = _has_factor(dbsession, user.id)
    dbsession.execute(update(User).where(User.id == user.id).values(mfa_enabled=has_factor)
                      .execution_options(synchronize_session=False))
    dbsession.expire(user, ["mfa_enabled"])
    if not has_factor:
        dbsession.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
        return None
    if not had_factor:
        return _new_codes(dbsession, events, passwords, user.id)
    return None


# -- TOTP -----------------------------------------------------------------------

@dataclass(frozen=True)
class Enrolment:
    secret: str
    otpauth_uri: str
    qr_svg: str


def _enrolment(secret: str, account: str) -> Enrolment:
    uri = totp.provisioning_uri(secret, account)
    return Enrolment(secret, uri, totp.qr_svg(uri))


def start_totp(dbsession: Session, user: User, *, app_secret: str) -> Enrolment:
    """A new secret, not yet active: an enrolment in progress replaces any
    earlier one; 409 when an authenticator app is already on."""
    current = dbsession.get(TotpAuthenticator, user.id)
    if current is not None and current.confirmed_at is not None:
        raise Conflict("An authenticator app is already set up; remove it first.")
    secret = totp.new_secret()
    dbsession.execute(delete(TotpAuthenticator).where(TotpAuthenticator.user_id == user.id,
                                                      TotpAuthenticator.confirmed_at.is_(None)))
    dbsession.add(TotpAuthenticator(user_id=user.id, secret_encrypted=totp.encrypt(app_secret, user.id, secret),
                                    created_at=clock.now(), last_step=0))
    dbsession.flush()
    return _enrolment(secret, user.email)


def enrolment_in_progress(dbsession: Session, user: User, *, app_secret: str) -> Enrolment | None:
    """The enrolment started and not yet confirmed (its page, shown again)."""
    current = dbsession.get(TotpAuthenticator, user.id)
    if current is None or current.confirmed_at is not None:
        return None
    secret = totp.decrypt(app_secret, user.id, current.secret_encrypted)
    return None if secret is None else _enrolment(secret, user.email)


def confirm_totp(dbsession: Session, events: Bookkeeping, passwords: Passwords, user: User,
                 code: str, *, app_secret: str) -> list[str] | None:
    """Turn the enrolment on with one valid code (that step is then used);
    the recovery codes when it is the account's first factor. 409 without
    an enrolment in progress, 422 on ``code`` for a wrong one."""
    had_factor = _lock(dbsession, user)
    current = dbsession.get(TotpAuthenticator, user.id, populate_existing=True)
    if current is None or current.confirmed_at is not None:
        raise Conflict("No authenticator app is being set up; start again.")
    secret = totp.decrypt(app_secret, user.id, current.secret_encrypted)
    step = totp.matching_step(secret, code, clock.now()) if secret is not None else None
    if step is None:
        events.audit(EventKind.MFA_FAILURE, user.id, method="totp", via="enrolment")
        raise Invalid({"code": "The code is not right; check the time on your device and try again."})
    current.confirmed_at = clock.now()
    current.last_step = step
    dbsession.flush()
    events.audit(EventKind.MFA_TOTP_ENABLED, user.id)
    return _settle(dbsession, events, passwords, user, had_factor)


def disable_totp(dbsession: Session, events: Bookkeeping, passwords: Passwords, user: User) -> bool:
    """Remove the authenticator app (or an enrolment in progress); False when there was none."""
    had_factor = _lock(dbsession, user)
    current = dbsession.get(TotpAuthenticator, user.id, populate_existing=True)
    if current is None:
        return False
    was_on = current.confirmed_at is not None
    dbsession.delete(current)
    dbsession.flush()
    if was_on:
        events.audit(EventKind.MFA_TOTP_DISABLED, user.id)
    _settle(dbsession, events, passwords, user, had_factor)
    return True


# -- WebAuthn ------------------------------------------------------------------------

def add_webauthn(dbsession: Session, events: Bookkeeping, passwords: Passwords, user: User,
                 new: NewCredential, name: str) -> tuple[WebAuthnCredential, list[str] | None]:
    """Keep a verified credential; the recovery codes when it is the first factor."""
    had_factor = _lock(dbsession, user)
    taken = dbsession.scalar(select(WebAuthnCredential.id).where(
        WebAuthnCredential.credential_id == new.credential_id))
    if taken is not None:
        raise Conflict("This security key is already registered.")
    row = WebAuthnCredential(user_id=user.id, credential_id=new.credential_id,
                             public_key=new.public_key, sign_count=new.sign_count, name=name,
                             is_passkey=new.passkey, created_at=clock.now())
    dbsession.add(row)
    dbsession.flush()
    events.audit(EventKind.MFA_WEBAUTHN_ADDED, user.id, credential_id=row.id, name=name,
                 passkey=new.passkey)
    return row, _settle(dbsession, events, passwords, user, had_factor)


def remove_webauthn(dbsession: Session, events: Bookkeeping, passwords: Passwords, user: User,
                    credential_id: int) -> bool:
    """Remove one of the user's credentials; False when it is not theirs (or not there)."""
    had_factor = _lock(dbsession, user)
    row = dbsession.scalars(select(WebAuthnCredential).where(
        WebAuthnCredential.id == credential_id, WebAuthnCredential.user_id == user.id)).first()
    if row is None:
        return False
    name = row.name
    dbsession.delete(row)
    dbsession.flush()
    events.audit(EventKind.MFA_WEBAUTHN_REMOVED, user.id, credential_id=credential_id, name=name)
    _settle(dbsession, events, passwords, user, had_factor)
    return True


# -- recovery codes ---------------------------------------------------------------

def regenerate_recovery_codes(dbsession: Session, events: Bookkeeping, passwords: Passwords,
                              user: User) -> list[str]:
    """Ten new codes; the old set dies. 409 for an account without a second factor."""
    if not _lock(dbsession, user):
        raise Conflict("Set up a security key or an authenticator app first.")
    return _new_codes(dbsession, events, passwords, user.id)


def _new_codes(dbsession: Session, events: Bookkeeping, passwords: Passwords,
               user_id: int) -> list[str]:
    codes = recovery_codes.generate()
    now = clock.now()
    dbsession.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    dbsession.add_all(RecoveryCode(user_id=user_id, code_hash=passwords.hash(recovery_codes.normalize(code)),
                                   created_at=now) for code in codes)
    dbsession.flush()
    events.audit(EventKind.MFA_RECOVERY_GENERATED, user_id, count=len(codes))
    return codes


# -- the operator ----------------------------------------------------------------------

def reset_mfa(dbsession: Session, events: Bookkeeping, user: User, *,
              by_user_id: int | None = None) -> dict[str, int]:
    """A locked-out user: every factor and recovery code removed, pending
    logins and sessions ended, by an operator or an admin (``by_user_id``).
    How many of each went."""
    lock_row(dbsession, User, user.id)
    counts = {
        "webauthn": dbsession.execute(
            delete(WebAuthnCredential).where(WebAuthnCredential.user_id == user.id)).rowcount,
        "totp": dbsession.execute(
            delete(TotpAuthenticator).where(TotpAuthenticator.user_id == user.id)).rowcount,
        "recovery_codes": dbsession.execute(
            delete(RecoveryCode).where(RecoveryCode.user_id == user.id)).rowcount,
    }
    dbsession.execute(delete(PendingLogin).where(PendingLogin.user_id == user.id))
    dbsession.execute(update(User).where(User.id == user.id).values(mfa_enabled=False)
                      .execution_options(synchronize_session=False))
    dbsession.expire(user, ["mfa_enabled"])
    counts["sessions"] = revoke_sessions(dbsession, user.id)
    record_change(events, EventKind.MFA_RESET, user, by_user_id, **counts)
    return counts
