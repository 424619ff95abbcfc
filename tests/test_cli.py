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
