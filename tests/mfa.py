"""Second factors in the tests: set up through the API (as a user would) or
straight in the database (to arrange a test quickly), and TOTP codes
computed with pyotp, as an authenticator app would."""
from __future__ import annotations

from datetime import datetime, timedelta

import pyotp

from dragonhoard import clock
from dragonhoard.models import RecoveryCode, TotpAuthenticator, User, WebAuthnCredential
from dragonhoard.security import totp
from dragonhoard.security.webauthn import user_handle

from .conftest import BASE_SETTINGS
from .factories import _HASHER, PASSWORD
from .soft_authenticator import SoftAuthenticator, b64url, unb64url

APP_SECRET = BASE_SETTINGS["dragonhoard.secret"]
RECOVERY_CODES = [f"abcde-fgh{n}k" for n in range(2, 10)] + ["zzzzz-zzzz2", "mnpqr-stuv3"]


def code_at(secret: str, when: datetime, steps: int = 0) -> str:
    """The code an authenticator app shows at ``when`` (``steps`` steps later)."""
    return pyotp.TOTP(secret).at(when + timedelta(seconds=30 * steps))


def code_now(secret: str, steps: int = 0) -> str:
    return code_at(secret, clock.now(), steps)


# -- straight in the database ---------------------------------------------------

def give_totp(dbsession, user: User, *, secret: str | None = None, last_step: int = 0) -> str:
    """A confirmed authenticator app for ``user``; its secret."""
    secret = secret or pyotp.random_base32()
    dbsession.add(TotpAuthenticator(user_id=user.id, secret_encrypted=totp.encrypt(APP_SECRET, user.id, secret),
                                    created_at=clock.now(), confirmed_at=clock.now(),
                                    last_step=last_step))
    user.mfa_enabled = True
    dbsession.commit()
    return secret


def give_recovery_codes(dbsession, user: User, codes: list[str] = RECOVERY_CODES) -> list[str]:
    for code in codes:
        dbsession.add(RecoveryCode(user_id=user.id, code_hash=_HASHER.hash(code.replace("-", "")),
                                   created_at=clock.now()))
    dbsession.commit()
    return codes


def give_key(dbsession, user: User, authenticator: SoftAuthenticator, *, name: str = "key",
             passkey: bool = True) -> WebAuthnCredential:
    """``authenticator``'s credential, registered to ``user``."""
    row = WebAuthnCredential(user_id=user.id, credential_id=authenticator.id,
                             public_key=authenticator.cose_key(),
                             sign_count=0, name=name, is_passkey=passkey, created_at=clock.now())
    authenticator.user_handle = b64url(user_handle(user.id))
    dbsession.add(row)
    user.mfa_enabled = True
    dbsession.commit()
    return row


# -- through the API ----------------------------------------------------------------

def start_login(testapp, user: User, password: str = PASSWORD, **kw):
    """``POST /api/login`` for an account with a second factor: the answer."""
    return testapp.post_json("/api/login", {"email": user.email, "password": password}, **kw)


def enrol_totp(testapp, csrf: str) -> tuple[str, list[str]]:
    """Set up an authenticator app (in sudo mode); its secret and the recovery codes."""
    headers = {"X-CSRF-Token": csrf}
    started = testapp.post_json("/api/account/totp", {}, headers=headers, status=201).json
    confirmed = testapp.post_json("/api/account/totp/confirm", {"code": code_now(started["secret"])},
                                  headers=headers).json
    return started["secret"], confirmed.get("recovery_codes", [])


def register(testapp, csrf: str, authenticator: SoftAuthenticator, name: str = "laptop", **kw):
    """Register ``authenticator`` (in sudo mode); the answer's JSON."""
    headers = {"X-CSRF-Token": csrf}
    options = testapp.post_json("/api/account/webauthn/options", {}, headers=headers).json
    credential = authenticator.create(options, **kw)
    return testapp.post_json("/api/account/webauthn", {"name": name, "credential": credential},
                             headers=headers, status=201).json


def assertion_for(testapp, authenticator: SoftAuthenticator, path: str = "/api/login/webauthn/options",
                  headers=None, **kw) -> dict:
    options = testapp.post_json(path, {}, headers=headers or {}).json
    return authenticator.get(options, **kw)


def challenge_of(options: dict) -> bytes:
    return unb64url(options["challenge"])
