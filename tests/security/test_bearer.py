"""Bearer authentication by RFC 6750: every row of DESIGN section 6 that is
about the credential, no fall-back, networks, cost and bookkeeping."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text

from dragonhoard.models import ApiToken
from dragonhoard.security import tokens

from ..helpers import bearer, caller_id, login

CHALLENGE = 'Bearer realm="dragonhoard"'


def invalid_token(description: str) -> str:
    return f'{CHALLENGE}, error="invalid_token", error_description="{description}"'


INVALID_REQUEST = f'{CHALLENGE}, error="invalid_request"'


@pytest.fixture
def user(factory):
    return factory.user()


def test_no_credentials_on_an_endpoint_that_needs_some(testapp):
    response = testapp.get("/api/me", status=401)
    assert response.headers["WWW-Authenticate"] == CHALLENGE


@pytest.mark.parametrize("header", ["Bearer", "Bearer ", "Bearer a b", "bearer  dhp_x",
                                    "Bearer dhp_x\u00e9", "   "])
def test_a_malformed_header_is_400_invalid_request(testapp, header):
    response = testapp.get("/api/me", headers={"Authorization": header}, status=400)
    assert response.headers["WWW-Authenticate"].startswith(INVALID_REQUEST)
    assert response.json["error"] == "invalid_request"


def test_a_token_in_the_query_string_is_400(testapp, user, factory):
    _row, secret = factory.token(user)
    response = testapp.get(f"/api/me?access_token={secret}", status=400)
    assert response.headers["WWW-Authenticate"].startswith(INVALID_REQUEST)
    testapp.get(f"/healthz?access_token={secret}", status=400)


@pytest.mark.parametrize("header", ["Basic Zm9vOmJhcg==", "Digest username=x", "Token abc"])
def test_another_scheme_is_401_without_error(testapp, header):
    response = testapp.get("/api/me", headers={"Authorization": header}, status=401)
    assert response.headers["WWW-Authenticate"] == CHALLENGE


def test_the_scheme_is_case_insensitive(testapp, user, factory):
    _row, secret = factory.token(user)
    assert caller_id(testapp, headers={"Authorization": f"BEARER {secret}"}) == user.id
    assert caller_id(testapp, headers={"Authorization": f"bearer {secret}"}) == user.id


def test_refused_tokens(testapp, user, factory, dbsession, clock):
    def refused(secret, description, **kw):
        response = testapp.get("/api/me", headers=bearer(secret), status=401, **kw)
        assert response.headers["WWW-Authenticate"] == invalid_token(description)
        assert response.json["error"] == "invalid_token"

    refused(tokens.generate(), "The token is unknown.")
    _row, secret = factory.token(user)
    refused(secret[:-1] + ("A" if secret[-1] != "A" else "B"), "The token is malformed or mistyped.")
    refused("not-even-close", "The token is malformed or mistyped.")
    _row, secret = factory.token(user, revoked_at=clock.at)
    refused(secret, "The token has been revoked.")
    _row, secret = factory.token(user, expires_at=clock.at - timedelta(seconds=1))
    refused(secret, "The token has expired.")
    _row, secret = factory.token(user, allowed_networks="10.0.0.0/8")
    refused(secret, "The token is not allowed from this address.")
    inactive = factory.user(is_active=False)
    _row, secret = factory.token(inactive)
    refused(secret, "The token owner's account is deactivated.")


def test_a_mis_checksummed_token_costs_no_statement(testapp, user, factory, statement_log):
    _row, secret = factory.token(user)
    mistyped = secret[:20] + ("x" if secret[20] != "x" else "y") + secret[21:]
    with statement_log(testapp.app) as log:
        testapp.get("/api/me", headers=bearer(mistyped), status=401)
    assert log.count == 0


def test_allowed_networks(testapp, user, factory):
    _row, secret = factory.token(user, allowed_networks="192.0.2.0/24 2001:db8::/32")
    assert caller_id(testapp, headers=bearer(secret)) == user.id  # from 192.0.2.10
    assert caller_id(testapp, headers=bearer(secret), extra_environ={"REMOTE_ADDR": "2001:db8::7"}) == user.id
    assert caller_id(testapp, headers=bearer(secret), extra_environ={"REMOTE_ADDR": "::ffff:192.0.2.99"}) == user.id
    testapp.get("/api/me", headers=bearer(secret), extra_environ={"REMOTE_ADDR": "198.51.100.1"},
                status=401)


def test_an_allowed_network_written_in_ipv4_mapped_form(testapp, user):
    """Stored as the IPv4 network it maps, so that IPv4 clients (in either form) meet it."""
    headers = {"X-CSRF-Token": login(testapp, user)}
    created = testapp.post_json("/api/tokens", {"name": "mapped", "allowed_networks": [
        "::ffff:192.0.2.0/120"]}, headers=headers, status=201).json
    assert created["allowed_networks"] == ["192.0.2.0/24"]
    testapp.reset()  # no session cookie: the token alone
    secret = bearer(created["token"])
    assert caller_id(testapp, headers=secret) == user.id  # from 192.0.2.10
    assert caller_id(testapp, headers=secret, extra_environ={"REMOTE_ADDR": "::ffff:192.0.2.99"}) == user.id
    response = testapp.get("/api/me", headers=secret, status=401,
                           extra_environ={"REMOTE_ADDR": "198.51.100.1"})
    assert response.headers["WWW-Authenticate"] == invalid_token(
        "The token is not allowed from this address.")


def test_a_network_stored_in_ipv4_mapped_form_still_matches(testapp, user, factory):
    """Tokens created before networks were normalised keep working as meant."""
    _row, secret = factory.token(user, allowed_networks="::ffff:a00:0/104")
    assert caller_id(testapp, headers=bearer(secret), extra_environ={"REMOTE_ADDR": "10.1.2.3"}) == user.id
    assert caller_id(testapp, headers=bearer(secret), extra_environ={"REMOTE_ADDR": "::ffff:10.9.9.9"}) == user.id
    testapp.get("/api/me", headers=bearer(secret), extra_environ={"REMOTE_ADDR": "11.0.0.1"},
                status=401)


def test_a_forged_forwarded_header_changes_nothing(testapp, user, factory):
    _row, secret = factory.token(user, allowed_networks="10.0.0.0/8")
    testapp.get("/api/me", status=401,
                headers=dict(bearer(secret), **{"X-Forwarded-For": "10.1.2.3"}))


def test_an_invalid_token_never_falls_back_to_the_cookie(testapp, user):
    login(testapp, user)
    assert caller_id(testapp) == user.id
    for header in (f"Bearer {tokens.generate()}", "Basic Zm9vOmJhcg==", "Bearer"):
        response = testapp.get("/api/me", headers={"Authorization": header}, status="*")
        assert response.status_int in (400, 401), header


def test_a_valid_token_wins_over_the_cookie(testapp, user, factory):
    other = factory.user()
    login(testapp, user)
    _row, secret = factory.token(other, scopes=["user:read"])
    me = testapp.get("/api/me", headers=bearer(secret)).json
    assert me["user"]["id"] == other.id and me["auth"] == "token"


def test_a_bad_credential_is_never_a_500_on_any_route(testapp):
    """Every route, public ones too, answers a refused credential 400 or 401."""
    routes = testapp.app.registry.introspector.get_category("routes")
    headers = [{"Authorization": "Bearer " + tokens.generate()}, {"Authorization": "Bearer"},
               {"Authorization": "Basic eDp5"}]
    for item in routes:
        route = item["introspectable"]["object"]
        if route.name.startswith("__static"):
            continue
        path = route.generate({"id": "1", "slug": "some-project", "user_id": "1", "subpath": ""})
        for method in ("GET", "POST", "PATCH", "DELETE", "PUT"):
            for header in headers:
                response = testapp.request(path, method=method, headers=header, status="*")
                assert response.status_int in (400, 401, 404, 405), (method, path, header)
                assert response.status_int != 500


def test_authentication_costs_one_statement(testapp, user, factory, statement_log):
    _row, secret = factory.token(user, scopes=["user:read"])
    assert caller_id(testapp, headers=bearer(secret))  # records last use (once a minute) == user.id
    with statement_log(testapp.app) as log:
        assert caller_id(testapp, headers=bearer(secret)) == user.id
    assert log.count == 1, log.statements


def test_a_session_costs_one_statement_too(testapp, user, statement_log):
    login(testapp, user)
    with statement_log(testapp.app) as log:
        assert caller_id(testapp) == user.id
    assert log.count == 1, log.statements


def test_last_use_is_written_at_most_once_a_minute(testapp, user, factory, dbsession, clock):
    row, secret = factory.token(user)
    assert caller_id(testapp, headers=bearer(secret)) == user.id
    dbsession.expire_all()
    first = dbsession.get(ApiToken, row.id)
    assert first.last_used_at == clock.at and first.last_used_ip == "192.0.2.10"
    clock.advance(seconds=59)
    assert caller_id(testapp, headers=bearer(secret), extra_environ={"REMOTE_ADDR": "192.0.2.99"}) == user.id
    dbsession.expire_all()
    assert dbsession.get(ApiToken, row.id).last_used_ip == "192.0.2.10"
    clock.advance(seconds=2)
    assert caller_id(testapp, headers=bearer(secret), extra_environ={"REMOTE_ADDR": "192.0.2.99"}) == user.id
    dbsession.expire_all()
    again = dbsession.get(ApiToken, row.id)
    assert again.last_used_ip == "192.0.2.99" and again.last_used_at == clock.at


def test_last_use_never_waits_for_a_locked_row(testapp, user, factory, database, clock):
    if database.backend != "postgresql":
        pytest.skip("row locks are PostgreSQL's")
    row, secret = factory.token(user)
    with database.engine.connect() as other:
        other.execute(text("SELECT id FROM api_tokens WHERE id = :id FOR UPDATE"), {"id": row.id})
        assert caller_id(testapp, headers=bearer(secret)) == user.id  # would hang without SKIP LOCKED
        other.rollback()
    with database.engine.connect() as conn:
        assert conn.execute(select(ApiToken.last_used_at).where(ApiToken.id == row.id)).scalar() is None
