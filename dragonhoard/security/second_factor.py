"""Checking a second factor (DESIGN section 14), the way check_password
checks a password: throttled per account under the same counters (a 429
tells nothing), counted as a failure unless it was right, and each check
leaves its security-log event.

What a check uses up is taken atomically, in the request's transaction: a
TOTP step (a conditional UPDATE accepting only a later step than the last),
a recovery code (``used_at IS NULL``), a signature counter. The throttle
writes on its own connection, so every such write comes after it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update

from .. import clock
from ..errors import Throttled, WrongCode
from ..models import EventKind, RecoveryCode, TotpAuthenticator, User, WebAuthnCredential
from . import challenges, recovery_codes, totp, webauthn


@dataclass(frozen=True)
class FactorCheck:
    """How a check ended; ``user`` is whose factor it was (a passkey login
    learns it from the credential), ``recovery_left`` the unused codes left."""

    ok: bool = False
    retry_after: int | None = None
    user: User | None = None
    recovery_left: int | None = None

    @property
    def throttled(self) -> bool:
        return self.retry_after is not None


def methods_of(dbsession, user_id: int) -> list[str]:
    """The second factors the account has, among webauthn, totp and recovery."""
    methods = []
    if dbsession.scalar(select(func.count()).where(WebAuthnCredential.user_id == user_id)):
        methods.append("webauthn")
    if dbsession.scalar(select(func.count()).where(TotpAuthenticator.user_id == user_id,
                                                  TotpAuthenticator.confirmed_at.is_not(None))):
        methods.append("totp")
    if unused_codes(dbsession, user_id):
        methods.append("recovery")
    return methods


def unused_codes(dbsession, user_id: int) -> int:
    return dbsession.scalar(select(func.count()).where(RecoveryCode.user_id == user_id,
                                                       RecoveryCode.used_at.is_(None)))


def _refused(request, user: User | None, method: str, via: str, decision) -> FactorCheck:
    user_id = user.id if user is not None else None
    request.bookkeeping.audit(EventKind.LOGIN_THROTTLED, user_id, via=via, method=method)
    return FactorCheck(retry_after=decision.retry_after, user=user)


def _failed(request, user: User | None, method: str, via: str) -> FactorCheck:
    user_id = user.id if user is not None else None
    request.bookkeeping.audit(EventKind.MFA_FAILURE, user_id, via=via, method=method)
    return FactorCheck(user=user)


def _judged(request, email: str | None, judge):
    """``judge()``, the attempt taken back if it fails before its verdict."""
    try:
        return judge()
    except Exception:
        request.throttle.factor_unjudged(request, email)
        raise


# -- TOTP -------------------------------------------------------------------

def check_totp(request, user: User, code: str, *, via: str) -> FactorCheck:
    throttle = request.throttle
    decision = throttle.factor_attempt(request, user.email)
    if not decision.allowed:
        return _refused(request, user, "totp", via, decision)
    step = _judged(request, user.email, lambda: _totp_step(request, user, code))
    if step is None:
        return _failed(request, user, "totp", via)
    throttle.factor_right(request, user.email)
    # Of two requests with one code, one takes the step; the other is refused.
    taken = request.dbsession.execute(
        update(TotpAuthenticator)
        .where(TotpAuthenticator.user_id == user.id, TotpAuthenticator.confirmed_at.is_not(None),
               TotpAuthenticator.last_step < step)
        .values(last_step=step)
        .execution_options(synchronize_session=False)
    ).rowcount
    if taken != 1:
        return _failed(request, user, "totp", via)
    return FactorCheck(ok=True, user=user)


def _totp_step(request, user: User, code: str) -> int | None:
    """The step ``code`` matches, when it is later than the last one accepted."""
    row = request.dbsession.get(TotpAuthenticator, user.id)
    if row is None or row.confirmed_at is None:
        return None
    secret = totp.decrypt(request.settings.secret, user.id, row.secret_encrypted)
    if secret is None:
        return None
    step = totp.matching_step(secret, code, clock.now())
    if step is None or step <= row.last_step:
        return None
    return step


# -- recovery codes -----------------------------------------------------------

def check_recovery(request, user: User, code: str, *, via: str) -> FactorCheck:
    throttle = request.throttle
    decision = throttle.factor_attempt(request, user.email)
    if not decision.allowed:
        return _refused(request, user, "recovery", via, decision)
    found = _judged(request, user.email, lambda: _matching_code(request, user, code))
    if found is None:
        return _failed(request, user, "recovery", via)
    code_id, unused = found
    throttle.factor_right(request, user.email)
    used = request.dbsession.execute(
        update(RecoveryCode)
        .where(RecoveryCode.id == code_id, RecoveryCode.used_at.is_(None))
        .values(used_at=clock.now())
        .execution_options(synchronize_session=False)
    ).rowcount
    if used != 1:
        return _failed(request, user, "recovery", via)
    left = unused - 1
    request.bookkeeping.audit(EventKind.MFA_RECOVERY_USED, user.id, via=via, codes_left=left)
    return FactorCheck(ok=True, user=user, recovery_left=left)


def _matching_code(request, user: User, typed: str) -> tuple[int, int] | None:
    """(the id of the unused code ``typed`` is, how many are unused), or None."""
    code = recovery_codes.normalize(typed)
    if code is None:
        return None
    rows = request.dbsession.execute(
        select(RecoveryCode.id, RecoveryCode.code_hash)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    ).all()
    for code_id, code_hash in rows:
        if request.passwords.verify(code_hash, code):
            return code_id, len(rows)
    return None


# -- WebAuthn -------------------------------------------------------------------

def check_assertion(request, credential: Any, *, purpose: str, via: str, user: User | None = None,
                    session_id: int | None = None, pending_login_id: int | None = None,
                    require_user_verification: bool = False) -> FactorCheck:
    """An assertion answering a challenge issued for ``purpose`` (and for
    this ``user``, login session or pending login), by one of the user's
    credentials; without ``user`` (a passkey login) the credential says whose."""
    row = _credential(request, credential)
    owner = user
    if owner is None and row is not None:
        owner = request.dbsession.get(User, row.user_id)
    email = owner.email if owner is not None else None
    throttle = request.throttle
    decision = throttle.factor_attempt(request, email)
    if not decision.allowed:
        return _refused(request, owner, "webauthn", via, decision)
    issued = challenges.consume(request, credential, purpose)
    fits = (
        issued is not None and row is not None and owner is not None and owner.is_active
        and row.user_id == owner.id
        and issued.user_id in (None, owner.id)
        and issued.session_id == session_id
        and issued.pending_login_id == pending_login_id
    )
    if not fits:
        return _failed(request, owner, "webauthn", via)
    rp = webauthn.relying_party(request.settings)

    def verify() -> int | None:
        try:
            return webauthn.verify_assertion(
                rp, credential, challenge=issued.challenge, public_key=row.public_key,
                sign_count=row.sign_count, user_id=owner.id,
                require_user_verification=require_user_verification)
        except webauthn.CeremonyFailed:
            return None

    new_count = _judged(request, email, verify)
    if new_count is None:
        return _failed(request, owner, "webauthn", via)
    throttle.factor_right(request, email)
    # A counter that grew (or one the authenticator does not keep): of two
    # uses at once with one counter, one wins.
    grown = (WebAuthnCredential.sign_count == 0 if new_count == 0
             else WebAuthnCredential.sign_count < new_count)
    counted = request.dbsession.execute(
        update(WebAuthnCredential)
        .where(WebAuthnCredential.id == row.id, grown)
        .values(sign_count=new_count, last_used_at=clock.now())
        .execution_options(synchronize_session=False)
    ).rowcount
    if counted != 1:
        return _failed(request, owner, "webauthn", via)
    return FactorCheck(ok=True, user=owner)


def _credential(request, credential: Any) -> WebAuthnCredential | None:
    credential_id = webauthn.credential_id(credential)
    if credential_id is None:
        return None
    return request.dbsession.scalars(
        select(WebAuthnCredential).where(WebAuthnCredential.credential_id == credential_id)
    ).first()


# -- sudo -------------------------------------------------------------------

def confirm_totp(request, user: User, code: str) -> None:
    """Sudo by TOTP: WrongCode or Throttled unless the code is right and new."""
    _confirmed(check_totp(request, user, code, via="sudo"))


def confirm_assertion(request, user: User, credential: Any) -> None:
    """Sudo by a WebAuthn assertion of one of the user's credentials."""
    session_id = request.identity.session.id
    _confirmed(check_assertion(request, credential, purpose="sudo", via="sudo", user=user,
                               session_id=session_id))


def _confirmed(check: FactorCheck) -> None:
    if check.throttled:
        raise Throttled(check.retry_after)
    if not check.ok:
        raise WrongCode()
