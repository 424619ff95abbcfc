"""The pure pieces of the fast path and of the rules reached only through HTTP:
parameter rewriting, row decoding on both dialects, the answer shapes and
the column lists that follow them, the kind of list a caller gets and its
total, token expiry, and the origin check."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from pyramid.request import Request
from sqlalchemy.dialects import postgresql

from dragonhoard.db.dialects import PostgresDialect, SQLiteDialect
from dragonhoard.db.queries.auth import TokenRow
from dragonhoard.db.queries.projects import PROJECT_COLUMNS, ProjectContextRow
from dragonhoard.db.queries.treasures import (
    ADMIN,
    MEMBER,
    NOBODY,
    RESTRICTED,
    RESTRICTED_ADMIN,
    TREASURE_COLUMNS,
    TreasureContextRow,
    list_total,
    private,
)
from dragonhoard.db.rows import decode_with
from dragonhoard.db.statements import SQLStatement, positional
from dragonhoard.errors import Invalid
from dragonhoard.models import EVENT_KINDS, EventKind
from dragonhoard.schemas import shapes
from dragonhoard.security.bookkeeping import Bookkeeping
from dragonhoard.security.csrf import same_origin
from dragonhoard.security.identity import Identity, TokenCredential
from dragonhoard.services.tokens import (
    LATEST_EXPIRY,
    Expiry,
    default_lifetime_days,
    expires_at_for,
    expiry_after,
)
from dragonhoard.services.treasures import caller_kind

NOW = datetime(2026, 12, 1, 12, 30, tzinfo=UTC)


# -- :name parameters ------------------------------------------------------


def test_named_parameters_become_positional_in_order():
    sql, names = positional("SELECT a FROM t WHERE b = :b AND c = :c OR d = :b", "%s")
    assert sql == "SELECT a FROM t WHERE b = %s AND c = %s OR d = %s"
    assert names == ("b", "c", "b")


def test_casts_and_words_are_left_alone():
    sql, names = positional("SELECT x::text, 'a:b' FROM t WHERE y = :y", "?")
    assert sql == "SELECT x::text, 'a:b' FROM t WHERE y = ?" and names == ("y",)


def test_a_statement_is_compiled_once_per_dialect():
    statement = SQLStatement("SELECT 1 WHERE a = :a")
    first = statement.compiled(SQLiteDialect())
    assert first is statement.compiled(SQLiteDialect())
    assert statement.compiled(PostgresDialect())[0] == "SELECT 1 WHERE a = %s"


# -- rows ------------------------------------------------------------------

RAW_TOKEN = (1, 2, "ci", "treasure:read", 1, "", "2026-12-08 12:30:00.000000", None, None,
             "smaug", "s@example.com", 0, 1, "2026-01-01 00:00:00.000000", 0, None, None)


def test_sqlite_rows_decode_timestamps_and_booleans():
    row = decode_with(TokenRow, SQLiteDialect())(RAW_TOKEN)
    assert row.is_restricted is True and row.is_admin is False and row.is_active is True
    assert row.expires_at == datetime(2026, 12, 8, 12, 30, tzinfo=UTC)
    assert row.revoked_at is None and row.last_used_at is None
    assert row.user_created_at == datetime(2026, 1, 1, tzinfo=UTC)


def test_postgresql_rows_come_back_in_utc_whatever_the_session_zone():
    kolkata = timezone(timedelta(hours=5, minutes=30))
    raw = (1, 2, "ci", "", True, "", NOW.astimezone(kolkata), None, None, "smaug", "s@x", False,
           True, NOW, False, 7, "Organizer")
    row = decode_with(TokenRow, PostgresDialect())(raw)
    assert row.app_id == 7 and row.app_name == "Organizer"
    assert row.expires_at == NOW and row.expires_at.tzinfo is UTC
    assert row.user_created_at is NOW  # already UTC: untouched
    assert row.is_restricted is True


def test_context_rows_start_with_the_answer_shape():
    assert TreasureContextRow._fields[:len(shapes.TREASURE_FIELDS)] == shapes.TREASURE_FIELDS
    assert ProjectContextRow._fields[:len(shapes.PROJECT_FIELDS)] == shapes.PROJECT_FIELDS
    assert tuple(c.name for c in TREASURE_COLUMNS) == shapes.TREASURE_FIELDS
    assert tuple(c.name for c in PROJECT_COLUMNS) == shapes.PROJECT_FIELDS


# -- answer shapes ---------------------------------------------------------


class Obj:
    def __init__(self, **kw):
        self.__dict__.update(kw)


def test_every_builder_answers_its_shape():
    user = Obj(id=1, username="smaug", email="s@example.com", is_admin=False, created_at=NOW)
    shapes.User.model_validate(shapes.user_answer(user, with_email=True))
    assert "email" not in shapes.User.model_validate(
        shapes.user_answer(user, with_email=False)).model_fields_set
    treasure = (1, "Cup", "", 5, 3, True, 1, None, NOW, NOW)
    shapes.Treasure.model_validate(shapes.treasure_answer(treasure))
    shapes.Project.model_validate(shapes.project_answer(("erebor", "Erebor", "", NOW, "owner", False)))
    shapes.Member.model_validate(shapes.member_answer(1, "smaug", "viewer"))
    link = Obj(project=Obj(slug="erebor"))
    token = Obj(id=3, name="ci", display_prefix="dhp_12345678", scope_list=["user:read"],
                is_restricted=True, project_links=[link], network_list=[], expires_at=None,
                created_at=NOW, last_used_at=None, revoked_at=None, last_used_ip=None,
                rotated_from=2)
    shapes.Token.model_validate(shapes.token_answer(token))
    shapes.TokenCreated.model_validate(shapes.token_created_answer(token, "dhp_secret"))
    shapes.TokenRotated.model_validate(
        shapes.token_rotated_answer(token, "dhp_secret", dropped_scopes=["admin"], dropped_projects=[]))
    session = Obj(id=4, created_at=NOW, last_seen_at=NOW, expires_at=NOW + timedelta(days=14),
                  ip=None, user_agent="", revoked_at=None)
    item = shapes.login_session_answer(session, 4, 600)
    assert shapes.LoginSessionItem.model_validate(item).expires_at == NOW + timedelta(seconds=600)
    event = Obj(id=5, kind="logout", created_at=NOW, ip="192.0.2.1", details=None)
    assert shapes.event_answer(event)["details"] == {}
    identity = Identity(user_id=1, username="smaug", email="s@x.example", is_admin=False,
                        created_at=NOW)
    shapes.Me.model_validate(shapes.me_answer(identity))
    key = Obj(id=6, name="laptop", created_at=NOW, last_used_at=None, is_passkey=True)
    shapes.WebAuthnCredential.model_validate(shapes.webauthn_credential_answer(key))
    status = Obj(totp=True, credentials=[key], recovery_codes_left=10)
    shapes.MfaStatus.model_validate(shapes.mfa_status_answer(status, required=False))
    enrolment = Obj(secret="JBSWY3DPEHPK3PXP", otpauth_uri="otpauth://totp/x", qr_svg="<svg/>")
    shapes.TotpEnrolment.model_validate(shapes.totp_enrolment_answer(enrolment))


# -- security-log kinds ----------------------------------------------------


def test_an_unknown_event_kind_is_an_error():
    events = Bookkeeping(engine=None, ip=None)
    events.audit(EventKind.LOGOUT, 1)
    events.audit("login:success", 1)
    with pytest.raises(ValueError):
        events.audit("token:created_by_mistake", 1)
    assert set(EVENT_KINDS) == {kind.value for kind in EventKind}


# -- lists -----------------------------------------------------------------


def caller(*, scopes=("treasure:read",), admin=False, restricted=False, token=True) -> Identity:
    credential = TokenCredential(id=9, name="t", scopes=frozenset(scopes), is_restricted=restricted,
                                 expires_at=None) if token else None
    return Identity(user_id=7, username="u", email="u@x", is_admin=admin, created_at=NOW,
                    token=credential)


def test_caller_kind():
    assert caller_kind(None) == NOBODY
    assert caller_kind(caller(scopes=())) == NOBODY
    assert caller_kind(caller()) == MEMBER
    assert caller_kind(caller(scopes=("treasure:read", "admin"), admin=True)) == ADMIN
    assert caller_kind(caller(scopes=("treasure:read",), admin=True)) == MEMBER  # no admin scope
    assert caller_kind(caller(restricted=True)) == RESTRICTED
    assert caller_kind(caller(scopes=("treasure:read", "admin"), admin=True,
                              restricted=True)) == RESTRICTED_ADMIN
    assert caller_kind(caller(token=False)) == MEMBER  # a session holds every scope


def sql(expression) -> str:
    return str(expression.compile(dialect=postgresql.dialect()))


def test_the_list_total_comes_from_the_counts_row_without_filters():
    assert "treasure_counts.total" in sql(list_total(ADMIN, private(ADMIN, "postgresql"), [],
                                                     published=True, unpublished=True))
    anonymous = sql(list_total(NOBODY, None, [], published=True, unpublished=True))
    assert "treasure_counts.published" in anonymous and "count(*)" not in anonymous
    member = sql(list_total(MEMBER, private(MEMBER, "postgresql"), [], published=True,
                            unpublished=True))
    assert "treasure_counts.published" in member and "count(*)" in member


def test_the_list_total_counts_when_filtered_and_is_zero_when_nothing_can_be_seen():
    from dragonhoard.models import Treasure

    filtered = sql(list_total(MEMBER, private(MEMBER, "postgresql"), [Treasure.owner_id == 1],
                              published=True, unpublished=True))
    assert "treasure_counts" not in filtered and filtered.count("count(*)") == 2
    nothing = sql(list_total(NOBODY, None, [], published=False, unpublished=True))
    assert "count" not in nothing and "treasure_counts" not in nothing


# -- token expiry ----------------------------------------------------------


def test_the_default_lifetime_is_thirty_days_or_the_maximum():
    assert default_lifetime_days(None) == 30
    assert default_lifetime_days(7) == 7 and default_lifetime_days(90) == 30
    assert expires_at_for(Expiry(), NOW, None, (7, 30)) == NOW + timedelta(days=30)


def test_a_date_is_valid_through_that_day():
    assert expires_at_for(Expiry(on_date=date(2027, 3, 1)), NOW, None, None) == datetime(
        2027, 3, 2, tzinfo=UTC)
    with pytest.raises(Invalid) as refused:
        expires_at_for(Expiry(on_date=date(2026, 11, 30)), NOW, None, None)
    assert "expires_at" in refused.value.fields
    with pytest.raises(Invalid):
        expires_at_for(Expiry(on_date=date(2027, 1, 1)), NOW, 30, None)  # past the maximum


def test_never_days_and_choices():
    assert expires_at_for(Expiry(never=True), NOW, None, None) is None
    with pytest.raises(Invalid):
        expires_at_for(Expiry(never=True), NOW, 90, None)
    assert expires_at_for(Expiry(days=7), NOW, None, (7, 30)) == NOW + timedelta(days=7)
    with pytest.raises(Invalid):
        expires_at_for(Expiry(days=8), NOW, None, (7, 30))
    assert expires_at_for(Expiry(days=8), NOW, None, None) == NOW + timedelta(days=8)
    with pytest.raises(Invalid):
        expires_at_for(Expiry(days=3651), NOW, None, None)


def test_expiry_arithmetic_stops_at_the_latest_expiry():
    assert expiry_after(NOW, timedelta(days=3_000_000)) == LATEST_EXPIRY
    assert expiry_after(NOW, timedelta(days=1)) == NOW + timedelta(days=1)


# -- the origin check ------------------------------------------------------


@pytest.mark.parametrize("headers, same", [
    ({}, True),
    ({"Origin": "http://example.com"}, True),
    ({"Origin": "http://example.com:80"}, True),
    ({"Origin": "https://example.com"}, False),
    ({"Origin": "http://example.com:8080"}, False),
    ({"Origin": "http://evil.example"}, False),
    ({"Origin": "null"}, False),
    ({"Origin": "http://[x"}, False),
    ({"Referer": "http://example.com/tokens"}, True),
    ({"Referer": "http://evil.example/tokens"}, False),
])
def test_same_origin(headers, same):
    request = Request.blank("http://example.com/api/sessions", headers=headers)
    assert same_origin(request) is same
