"""The console scripts: happy paths and clear errors without tracebacks."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from dragonhoard.cli import admin, initdb
from dragonhoard.models import AuditEvent, LoginSession, Membership, Project, Treasure, User

from .conftest import ini_path


@pytest.fixture
def cli(clean_database, monkeypatch, capsys):
    """Run a command against the test database; (exit status, stdout, stderr)."""
    monkeypatch.setenv("DRAGONHOARD_DATABASE_URL", clean_database.url)

    def run(module, *argv, stdin: str = ""):
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        status = 0
        try:
            module.main([ini_path(), *argv])
        except SystemExit as exc:
            status = exc.code if isinstance(exc.code, int) else 1
        out, err = capsys.readouterr()
        assert "Traceback" not in err
        return status, out, err

    return run


def test_initdb_migrates_and_loads_the_demo_once(cli, dbsession):
    status, out, _err = cli(initdb, "--demo")
    assert status == 0
    assert "smaug@dragonhoard.example" in out and "password:" in out
    roles = set(dbsession.scalars(select(Membership.role)))
    assert roles == {"viewer", "editor", "owner"}
    published = set(dbsession.scalars(select(Treasure.is_published)))
    assert published == {True, False}
    assert dbsession.scalar(select(User.is_admin).where(User.username == "smaug")) is True
    users_before = len(dbsession.scalars(select(User.id)).all())

    status, out, _err = cli(initdb, "--demo")
    assert status == 0
    assert "already loaded" in out and "password:" not in out
    assert len(dbsession.scalars(select(User.id)).all()) == users_before
    assert len(dbsession.scalars(select(Project.id)).all()) == 2


def test_initdb_with_a_missing_config_fails_clearly(capsys):
    with pytest.raises(SystemExit) as exc:
        initdb.main(["/nonexistent/dragonhoard.ini"])
    assert exc.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("dragonhoard-initdb: cannot read the configuration")
    assert "Traceback" not in err


def test_create_user_reads_the_password_from_stdin(cli, dbsession):
    status, out, err = cli(admin, "create-user", "Fafnir@example.com", "fafnir", "--admin",
                           stdin="gold-under-gnitaheath-42\n")
    assert status == 0, err
    assert "fafnir" in out and "gold-under" not in out
    user = dbsession.scalars(select(User).where(User.username == "fafnir")).one()
    assert user.is_admin and user.email == "Fafnir@example.com"
    assert user.password_hash.startswith("$argon2id$")
    assert dbsession.scalar(select(AuditEvent.kind).where(AuditEvent.user_id == user.id)) == "user:registered"


@pytest.mark.parametrize(
    "argv, stdin, message",
    [
        (("create-user", "not-an-email", "fafnir"), "gold-under-gnitaheath-42\n", "email:"),
        (("create-user", "f@example.com", "x"), "gold-under-gnitaheath-42\n", "username:"),
        (("create-user", "f@example.com", "fafnir"), "password\n", "password:"),
        (("create-user", "f@example.com", "fafnir"), "", "no password on standard input"),
        (("set-admin", "nobody@example.com"), "", "no user has the email"),
        (("set-active", "nobody@example.com", "--off"), "", "no user has the email"),
    ],
)
def test_admin_errors_are_one_clear_line(cli, dbsession, argv, stdin, message):
    status, _out, err = cli(admin, *argv, stdin=stdin)
    assert status == 1
    assert err.startswith("dragonhoard-admin: ") and message in err
    assert len(err.strip().splitlines()) == 1
    assert dbsession.scalars(select(User.id)).all() == []


def test_create_user_refuses_a_taken_email_in_any_case(cli, factory, dbsession):
    factory.user(email="fafnir@example.com")
    status, _out, err = cli(admin, "create-user", "FAFNIR@example.com", "other",
                            stdin="gold-under-gnitaheath-42\n")
    assert status == 1 and "already registered" in err
    assert len(dbsession.scalars(select(User.id)).all()) == 1


def test_unknown_command_is_a_usage_error(cli):
    status, _out, err = cli(admin, "conquer-erebor")
    assert status == 2 and "invalid choice" in err


def test_set_admin_on_and_off(cli, factory, dbsession):
    user = factory.user(email="s@example.com")
    assert cli(admin, "set-admin", "S@example.com")[0] == 0
    dbsession.expire_all()
    assert dbsession.get(User, user.id).is_admin is True
    assert cli(admin, "set-admin", "s@example.com", "--off")[0] == 0
    dbsession.expire_all()
    assert dbsession.get(User, user.id).is_admin is False


def test_set_active_off_revokes_sessions_and_logs_both_ways(cli, factory, dbsession):
    user = factory.user(email="s@example.com")
    session, _secret = factory.login_session(user)
    assert cli(admin, "set-active", "s@example.com", "--off")[0] == 0
    dbsession.expire_all()
    assert dbsession.get(User, user.id).is_active is False
    assert dbsession.get(LoginSession, session.id).revoked_at is not None
    assert cli(admin, "set-active", "s@example.com")[0] == 0
    dbsession.expire_all()
    assert dbsession.get(User, user.id).is_active is True
    kinds = dbsession.scalars(
        select(AuditEvent.kind).where(AuditEvent.user_id == user.id).order_by(AuditEvent.id)
    ).all()
    assert kinds == ["user:deactivated", "user:activated"]


def test_create_token_prints_it_once(cli, factory, dbsession, clock):
    from dragonhoard.models import ApiToken
    from dragonhoard.security.tokens import hash_token, is_well_formed

    user = factory.user(email="s@example.com")
    factory.project(slug="erebor", members={user: "owner"})
    status, out, err = cli(admin, "create-token", "s@example.com", "--name", "backup",
                           "--scopes", "treasure:read,project:read", "--expires-in-days", "365",
                           "--projects", "erebor")
    assert status == 0, err
    secret = out.strip()
    assert is_well_formed(secret) and "shown this once" in err
    row = dbsession.scalars(select(ApiToken)).one()
    assert row.token_hash == hash_token(secret) and row.scope_list == ["project:read", "treasure:read"]
    assert (row.expires_at - clock.at).days == 365 and row.is_restricted
    status, out, _err = cli(admin, "create-token", "s@example.com", "--name", "default")
    row = dbsession.scalars(select(ApiToken).where(ApiToken.name == "default")).one()
    assert (row.expires_at - clock.at).days == 30


@pytest.mark.parametrize("argv, message", [
    (("--scopes", "admin"), "Only admins"),
    (("--scopes", "nope"), "Unknown scope"),
    (("--expires-in-days", "0"), "between 1 and 3650"),
    (("--expires-in-days", "7", "--never"), "at most one of"),
    (("--expires-at", "2001-01-01"), "in the past"),
    (("--expires-at", "soon"), "takes a date"),
    (("--projects", "nowhere"), "Not one of your projects"),
])
def test_create_token_errors(cli, factory, dbsession, argv, message):
    from dragonhoard.models import ApiToken

    factory.user(email="s@example.com")
    status, out, err = cli(admin, "create-token", "s@example.com", "--name", "x", *argv)
    assert status == 1 and message in err and out == ""
    assert dbsession.scalars(select(ApiToken.id)).all() == []


def test_create_token_follows_the_maximum_lifetime(cli, factory, monkeypatch, tmp_path):
    import re

    factory.user(email="s@example.com")
    text = open(ini_path()).read()
    text = re.sub(r"dragonhoard.tokens.max_lifetime_days =.*", "dragonhoard.tokens.max_lifetime_days = 60", text)
    text = text.replace("%(here)s", str(ini_path()).rsplit("/", 1)[0])
    capped = tmp_path / "capped.ini"
    capped.write_text(text)
    monkeypatch.setattr("tests.test_cli.ini_path", lambda: str(capped))
    status, _out, err = cli(admin, "create-token", "s@example.com", "--name", "x", "--never")
    assert status == 1 and "within 60 days" in err
    status, _out, err = cli(admin, "create-token", "s@example.com", "--name", "x", "--expires-in-days", "61")
    assert status == 1 and "between 1 and 60" in err


def test_revoke_token_and_prune(cli, factory, dbsession, clock):
    from datetime import timedelta

    from dragonhoard.models import ApiToken, AuditEvent, LoginSession, ThrottleHit

    user = factory.user()
    live = factory.token(user)[0].id
    factory.token(user, revoked_at=clock.at - timedelta(days=31))
    factory.token(user, expires_at=clock.at - timedelta(days=31))
    recent = factory.token(user, revoked_at=clock.at - timedelta(days=1))[0].id
    factory.login_session(user, created_at=clock.at - timedelta(days=60))
    live_session = factory.login_session(user)[0].id
    factory.throttle_hit("addr:1.2.3.4", clock.at - timedelta(hours=2))
    factory.throttle_hit("addr:5.6.7.8", clock.at)
    factory.audit_event("login:success", user)

    status, out, _err = cli(admin, "revoke-token", str(live))
    assert status == 0 and "is revoked" in out
    status, _out, err = cli(admin, "revoke-token", "999999")
    assert status == 1 and "no token has the id 999999" in err

    status, out, _err = cli(admin, "prune")
    assert status == 0 and "Deleted 2 tokens, 1 sessions and 1 throttle counters." in out
    dbsession.expire_all()
    assert set(dbsession.scalars(select(ApiToken.id))) == {live, recent}
    assert set(dbsession.scalars(select(LoginSession.id))) == {live_session}
    assert set(dbsession.scalars(select(ThrottleHit.key))) == {"addr:5.6.7.8"}
    assert dbsession.scalars(select(AuditEvent.kind).where(AuditEvent.kind == "login:success")).all()

    status, out, _err = cli(admin, "prune", "--older-than-days", "0")
    assert status == 0 and "Deleted 1 tokens" in out  # the one revoked a day ago


def test_numbers_out_of_range_are_clear_errors(cli):
    status, _out, err = cli(admin, "revoke-token", "99999999999999999999")
    assert status == 1 and "no token has the id" in err
    status, _out, err = cli(admin, "prune", "--older-than-days", "99999999999")
    assert status == 1 and "--older-than-days takes" in err


def test_initdb_refuses_demo_data_in_production(clean_database, monkeypatch, capsys, dbsession):
    """The demo users' passwords are published (an admin's among them)."""
    monkeypatch.setenv("DRAGONHOARD_DATABASE_URL", clean_database.url)
    monkeypatch.setenv("DRAGONHOARD_SECRET", "a-production-secret-" + "p" * 30)
    production = ini_path().replace("development.ini", "production.ini")
    with pytest.raises(SystemExit) as exc:
        initdb.main([production, "--demo"])
    assert exc.value.code == 1
    err = capsys.readouterr().err
    assert err.strip() == ("dragonhoard-initdb: --demo is refused in production: "
                           "the demo users' passwords are public")
    assert dbsession.scalars(select(User.id)).all() == []
