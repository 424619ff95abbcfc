"""``dragonhoard-admin CONFIG reset-mfa EMAIL`` (DESIGN section 10), and the
command line under ``dragonhoard.mfa.required``."""
from __future__ import annotations

from sqlalchemy import select

from dragonhoard.cli import admin
from dragonhoard.models import (
    AuditEvent,
    LoginSession,
    RecoveryCode,
    TotpAuthenticator,
    User,
    WebAuthnCredential,
)

from .mfa import give_key, give_recovery_codes, give_totp, start_login
from .soft_authenticator import SoftAuthenticator
from .test_cli import cli  # noqa: F401 (the fixture)


def test_reset_mfa_removes_every_factor_and_session(cli, factory, dbsession, testapp):  # noqa: F811
    user = factory.user()
    give_totp(dbsession, user)
    give_key(dbsession, user, SoftAuthenticator())
    give_recovery_codes(dbsession, user)
    session, _secret = factory.login_session(user)
    status, out, err = cli(admin, "reset-mfa", user.email.upper())
    assert status == 0, err
    assert "removed 1 security keys, 1 authenticator apps and 10 recovery codes; 1 sessions revoked" in out
    dbsession.expire_all()
    assert dbsession.get(User, user.id).mfa_enabled is False
    for model in (WebAuthnCredential, TotpAuthenticator, RecoveryCode):
        assert dbsession.scalars(select(model)).all() == []
    assert dbsession.get(LoginSession, session.id).revoked_at is not None
    event = dbsession.scalars(select(AuditEvent).where(AuditEvent.kind == "mfa:reset")).one()
    assert event.user_id == user.id and event.details["by"] == "operator"
    # The password alone logs in again.
    assert start_login(testapp, user).json["user"]["id"] == user.id


def test_reset_mfa_of_nobody_fails_clearly(cli):  # noqa: F811
    status, _out, err = cli(admin, "reset-mfa", "nobody@example.com")
    assert status == 1 and err.strip() == "dragonhoard-admin: no user has the email 'nobody@example.com'"


def test_create_token_follows_the_tokens_rule(cli, factory, monkeypatch, tmp_path):  # noqa: F811
    from .conftest import ini_path

    user = factory.user()
    ini = tmp_path / "strict.ini"
    text = open(ini_path()).read().replace("dragonhoard.mfa.required = none",
                                           "dragonhoard.mfa.required = tokens")
    ini.write_text(text.replace("%(here)s", str(tmp_path)))
    monkeypatch.setattr("tests.test_cli.ini_path", lambda: str(ini))
    status, _out, err = cli(admin, "create-token", user.email, "--name", "ci")
    assert status == 1 and "second factor" in err
