"""The authorization code grant with PKCE (DESIGN section 15; RFC 6749
section 4.1, RFC 7636, OAuth 2.1), through HTTP as an app and its user."""
from __future__ import annotations

import hashlib
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from dragonhoard.models import ApiToken, AuditEvent, OAuthCode, OAuthGrant
from dragonhoard.security import tokens

from ..helpers import bearer, form_login, row_counts
from .flows import (
    REDIRECT,
    authorize_params,
    basic,
    code_for,
    consent,
    exchange,
    pkce,
    query_of,
    tokens_for,
)


@pytest.fixture
def world(factory):
    """A user in two projects with a treasure in each, and a confidential app."""
    user = factory.user()
    granted = factory.project(slug="erebor", members={user: "owner"})
    other = factory.project(slug="moria", members={user: "owner"})
    inside = factory.treasure(user, project=granted, name="Arkenstone")
    outside = factory.treasure(user, project=other, name="Mithril")
    app, secret = factory.oauth_app(factory.user(), name="Organizer")
    return user, app, secret, inside, outside


def events(dbsession, prefix: str = "oauth:") -> list[AuditEvent]:
    found = dbsession.scalars(select(AuditEvent).where(AuditEvent.kind.like(prefix + "%"))
                              .order_by(AuditEvent.id)).all()
    dbsession.commit()
    return found


def test_the_code_flow_gives_tokens_that_act_as_the_user_within_the_grant(testapp, world,
                                                                           dbsession):
    user, app, secret, inside, outside = world
    code, verifier = code_for(testapp, user, app, projects="some", project_slugs=["erebor"])
    answer = exchange(testapp, app, secret, code, verifier)
    assert answer.headers["Cache-Control"] == "no-store"
    body = answer.json
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert body["scope"] == "treasure:read user:read"
    access, refresh = body["access_token"], body["refresh_token"]
    assert tokens.is_well_formed(access, tokens.OAUTH_ACCESS_PREFIX)
    assert tokens.is_well_formed(refresh, tokens.OAUTH_REFRESH_PREFIX)

    me = testapp.get("/api/me", headers=bearer(access)).json
    assert me["auth"] == "oauth" and me["user"]["id"] == user.id
    assert me["app"] == {"id": app.id, "name": "Organizer"}
    assert me["scopes"] == ["treasure:read", "user:read"]
    testapp.get(f"/api/treasures/{inside.id}", headers=bearer(access), status=200)
    hidden = testapp.get(f"/api/treasures/{outside.id}", headers=bearer(access), status=404)
    missing = testapp.get("/api/treasures/999999", headers=bearer(access), status=404)
    assert hidden.body == missing.body
    # Beyond the scopes: DESIGN 6's answer; account security: sessions only.
    denied = testapp.post_json("/api/treasures", {"name": "x", "value": 1},
                               headers=bearer(access), status=403)
    assert denied.json["error"] == "insufficient_scope"
    assert testapp.get("/api/tokens", headers=bearer(access), status=403).json["error"] == \
        "session_required"

    # Stored as SHA-256 only; not among the user's personal tokens.
    row = dbsession.scalars(select(ApiToken).where(ApiToken.grant_id.is_not(None))).one()
    assert row.token_hash == hashlib.sha256(access.encode()).hexdigest()
    assert access not in str(row.__dict__)
    dbsession.commit()
    session_tokens = testapp.get("/api/tokens").json
    assert session_tokens["items"] == []
    granted = [e for e in events(dbsession) if e.kind == "oauth:granted"]
    assert granted[0].details["scopes"] == ["treasure:read", "user:read"]
    assert granted[0].details["projects"] == ["erebor"]


def test_state_is_round_tripped_and_the_redirect_uri_is_the_registered_one(testapp, world):
    user, app, *_ = world
    form_login(testapp, user.email)
    _verifier, challenge = pkce()
    query = consent(testapp, app, challenge, state="a b&c=d")
    assert query["state"] == "a b&c=d"


def test_narrowed_scopes_are_all_the_token_holds(testapp, world):
    user, app, secret, inside, _ = world
    body = tokens_for(testapp, user, app, secret, uncheck=["user:read"])
    assert body["scope"] == "treasure:read"
    access = body["access_token"]
    answer = testapp.get(f"/api/users/{user.id}", headers=bearer(access), status=403)
    assert answer.json["error"] == "insufficient_scope"


def test_no_project_means_none_and_all_means_every_one(testapp, world):
    user, app, secret, inside, outside = world
    none = tokens_for(testapp, user, app, secret, projects="none")["access_token"]
    testapp.get(f"/api/treasures/{inside.id}", headers=bearer(none), status=404)
    # Asking for more than was granted asks again, with the projects to choose anew.
    every = tokens_for(testapp, user, app, secret, login=False, projects="all",
                       scope="treasure:read project:read")["access_token"]
    testapp.get(f"/api/treasures/{inside.id}", headers=bearer(every), status=200)
    testapp.get(f"/api/treasures/{outside.id}", headers=bearer(every), status=200)


def test_a_consent_given_is_not_asked_again(testapp, world, dbsession):
    user, app, secret, *_ = world
    tokens_for(testapp, user, app, secret)
    _verifier, challenge = pkce()
    again = testapp.get("/oauth/authorize", authorize_params(app, challenge), status=302)
    assert "code" in query_of(again.headers["Location"])
    assert again.headers["Location"].startswith(REDIRECT + "?")
    # Asking for more than was granted asks again.
    more = testapp.get("/oauth/authorize",
                       authorize_params(app, challenge, scope="treasure:read treasure:edit"))
    assert more.status_int == 200 and "consent" in more.forms
    assert len(dbsession.scalars(select(OAuthGrant)).all()) == 1


def test_deny_redirects_with_access_denied_and_grants_nothing(testapp, world, dbsession):
    user, app, *_ = world
    form_login(testapp, user.email)
    before = row_counts(dbsession)
    _verifier, challenge = pkce()
    query = consent(testapp, app, challenge, decision="deny")
    assert query == {"error": "access_denied", "state": "st4te"} or (
        query["error"] == "access_denied" and query["state"] == "st4te")
    assert row_counts(dbsession) == before


def test_a_wrong_redirect_uri_is_never_followed(testapp, world, dbsession):
    user, app, *_ = world
    form_login(testapp, user.email)
    _verifier, challenge = pkce()
    for uri in ("http://127.0.0.1:8765/callback/", "http://evil.example/callback",
                "http://127.0.0.1:8765/callback?x=1"):
        answer = testapp.get("/oauth/authorize", authorize_params(app, challenge, redirect_uri=uri),
                             status=400)
        assert "Location" not in answer.headers
    unknown = testapp.get("/oauth/authorize",
                          dict(authorize_params(app, challenge), client_id="dhc_nobody"), status=400)
    assert "Location" not in unknown.headers


@pytest.mark.parametrize("pkce_params", [
    {"code_challenge": None, "code_challenge_method": None},
    {"code_challenge_method": "plain"},
    {"code_challenge_method": None},  # no method means plain (RFC 7636 section 4.3)
])
def test_pkce_s256_is_required(testapp, world, pkce_params, dbsession):
    user, app, *_ = world
    form_login(testapp, user.email)
    before = row_counts(dbsession)
    _verifier, challenge = pkce()
    answer = testapp.get("/oauth/authorize", authorize_params(app, challenge, **pkce_params),
                         status=302)
    query = query_of(answer.headers["Location"])
    assert query["error"] == "invalid_request" and query["state"] == "st4te"
    assert "code" not in query
    assert row_counts(dbsession) == before


def test_the_verifier_must_match_the_challenge(testapp, world):
    user, app, secret, *_ = world
    code, verifier = code_for(testapp, user, app)
    missing = exchange(testapp, app, secret, code, None, status=400)
    assert missing.json["error"] == "invalid_request"
    code, verifier = code_for(testapp, user, app, login=False)
    wrong = exchange(testapp, app, secret, code, verifier + "x", status=400)
    assert wrong.json["error"] == "invalid_grant"


def test_a_confidential_client_must_authenticate(testapp, world):
    user, app, secret, *_ = world
    code, verifier = code_for(testapp, user, app)
    without = exchange(testapp, app, None, code, verifier, status=401)
    assert without.json["error"] == "invalid_client"
    wrong = exchange(testapp, app, "dhs_" + "x" * 46, code, verifier, status=401)
    assert wrong.json["error"] == "invalid_client"
    # Basic: challenged in Basic (RFC 6749 section 5.2).
    bad_basic = testapp.post("/oauth/token", {"grant_type": "authorization_code", "code": code,
                                              "code_verifier": verifier, "redirect_uri": REDIRECT},
                             headers=basic(app.client_id, "wrong"), status=401)
    assert bad_basic.headers["WWW-Authenticate"].startswith("Basic")
    both = testapp.post("/oauth/token", {"grant_type": "authorization_code", "code": code,
                                         "code_verifier": verifier, "redirect_uri": REDIRECT,
                                         "client_secret": secret},
                        headers=basic(app.client_id, secret), status=401)
    assert both.json["error"] == "invalid_client"
    # The code was never spent by the refusals: the right client gets it.
    good = testapp.post("/oauth/token", {"grant_type": "authorization_code", "code": code,
                                         "code_verifier": verifier, "redirect_uri": REDIRECT},
                        headers=basic(app.client_id, secret), status=200)
    assert good.json["access_token"].startswith("dho_")


def test_a_public_client_names_itself(testapp, factory):
    user = factory.user()
    app, secret = factory.oauth_app(user, confidential=False)
    assert secret is None
    body = tokens_for(testapp, user, app, None)
    assert body["access_token"].startswith("dho_")


def test_a_reused_code_is_refused_and_revokes_what_it_gave(testapp, world, dbsession):
    user, app, secret, inside, _ = world
    code, verifier = code_for(testapp, user, app)
    first = exchange(testapp, app, secret, code, verifier).json
    testapp.get("/api/me", headers=bearer(first["access_token"]), status=200)
    again = exchange(testapp, app, secret, code, verifier, status=400)
    assert again.json["error"] == "invalid_grant"
    refused = testapp.get("/api/me", headers=bearer(first["access_token"]), status=401)
    assert refused.json["error"] == "invalid_token"
    assert dbsession.scalars(select(OAuthGrant)).all() == []
    revoked = [e for e in events(dbsession) if e.kind == "oauth:revoked"]
    assert revoked[-1].details["reason"] == "code_reused"


def test_codes_live_sixty_seconds(clock, testapp, world):
    user, app, secret, *_ = world
    code, verifier = code_for(testapp, user, app)
    clock.advance(seconds=61)
    assert exchange(testapp, app, secret, code, verifier, status=400).json["error"] == \
        "invalid_grant"


def test_a_code_belongs_to_its_app_and_its_redirect_uri(testapp, world, factory):
    user, app, secret, *_ = world
    other, other_secret = factory.oauth_app(user, redirect_uris=(REDIRECT,))
    code, verifier = code_for(testapp, user, app)
    stolen = exchange(testapp, other, other_secret, code, verifier, status=400)
    assert stolen.json["error"] == "invalid_grant"
    wrong_uri = exchange(testapp, app, secret, code, verifier, status=400,
                         redirect_uri="http://127.0.0.1:8765/other")
    assert wrong_uri.json["error"] in ("invalid_request", "invalid_grant")


def test_the_code_is_stored_hashed(testapp, world, dbsession):
    user, app, *_ = world
    code, _verifier = code_for(testapp, user, app)
    row = dbsession.scalars(select(OAuthCode)).one()
    assert row.code_hash == hashlib.sha256(code.encode()).hexdigest()


def test_consent_needs_a_login_session(testapp, world, factory):
    user, app, *_ = world
    _verifier, challenge = pkce()
    anonymous = testapp.get("/oauth/authorize", authorize_params(app, challenge), status=303)
    assert anonymous.headers["Location"].startswith("/login?next=")
    _row, token = factory.token(user, scopes=["user:read"])
    answer = testapp.get("/oauth/authorize", authorize_params(app, challenge),
                         headers=bearer(token), status=403)
    assert answer.json["error"] == "session_required" if answer.content_type == \
        "application/json" else "session" in answer.text


def test_admin_is_offered_to_admins_only(testapp, factory):
    user = factory.user()
    app, secret = factory.oauth_app(user)
    form_login(testapp, user.email)
    _verifier, challenge = pkce()
    page = testapp.get("/oauth/authorize", authorize_params(app, challenge,
                                                            scope="treasure:read admin"))
    offered = [field._value for field in page.forms["consent"].fields["granted_scope"]]
    assert offered == ["treasure:read"]
    form = page.forms["consent"]
    form.fields["granted_scope"][0].force_value("admin")
    query = query_of(form.submit("decision", value="allow", status=302).headers["Location"])
    body = exchange(testapp, app, secret, query["code"], None, status=400)
    assert body.json["error"] == "invalid_request"  # no verifier: checked before anything


def test_a_deactivated_user_gets_no_tokens(testapp, world, dbsession):
    user, app, secret, *_ = world
    code, verifier = code_for(testapp, user, app)
    user = dbsession.merge(user)
    user.is_active = False
    dbsession.commit()
    assert exchange(testapp, app, secret, code, verifier, status=400).json["error"] == \
        "invalid_grant"


def test_malformed_token_requests_answer_as_the_rfc_says(testapp, world, dbsession):
    _user, app, secret, *_ = world
    before = row_counts(dbsession)
    unsupported = testapp.post("/oauth/token", {"grant_type": "password", "client_id": app.client_id,
                                                "client_secret": secret}, status=400)
    assert unsupported.json["error"] == "unsupported_grant_type"
    binary = testapp.post("/oauth/token", b"\xff\xfe", status=400,
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert binary.json["error"] == "invalid_request"
    assert testapp.get("/oauth/token", status=405).headers["Allow"] == "POST"
    no_code = testapp.post("/oauth/token", {"grant_type": "authorization_code",
                                            "client_id": app.client_id, "client_secret": secret},
                           status=400)
    assert no_code.json["error"] == "invalid_request"
    assert row_counts(dbsession) == before


def test_an_oauth_bearer_item_get_costs_two_statements(testapp, world, statement_log):
    user, app, secret, inside, _ = world
    access = tokens_for(testapp, user, app, secret)["access_token"]
    testapp.get(f"/api/treasures/{inside.id}", headers=bearer(access))  # last use written
    with statement_log(testapp.app) as log:
        testapp.get(f"/api/treasures/{inside.id}", headers=bearer(access), status=200)
    assert log.count == 2, log.statements
    with statement_log(testapp.app) as log:
        testapp.get("/api/me", headers=bearer(access), status=200)
    assert log.count == 1, log.statements


def test_the_consent_page_may_send_its_form_on_to_the_app(testapp, world):
    """Browsers check a form's redirects against form-action: the consent
    page (and a login page on the way to it) names the app's redirect URI."""
    user, app, *_ = world
    params = authorize_params(app, pkce()[1])
    login_page = testapp.get("/login", {"next": "/oauth/authorize?" + urlencode(params)})
    assert "form-action 'self' http://127.0.0.1:8765;" in login_page.headers[
        "Content-Security-Policy"]
    form_login(testapp, user.email)
    page = testapp.get("/oauth/authorize", params)
    assert "form-action 'self' http://127.0.0.1:8765;" in page.headers["Content-Security-Policy"]
    other = testapp.get("/tokens")
    assert "form-action 'self';" in other.headers["Content-Security-Policy"]


def test_a_head_request_issues_its_code_in_a_transaction(testapp, world, dbsession):
    user, app, secret, *_ = world
    tokens_for(testapp, user, app, secret)
    verifier, challenge = pkce()
    answer = testapp.head("/oauth/authorize?" + urlencode(authorize_params(app, challenge)),
                          status=302)
    code = query_of(answer.headers["Location"])["code"]
    assert exchange(testapp, app, secret, code, verifier).json["access_token"].startswith("dho_")


def test_where_tokens_need_a_second_factor_so_do_the_apps(make_testapp, factory, dbsession):
    testapp = make_testapp(dragonhoard__mfa__required="tokens")
    user = factory.user()
    app, _secret = factory.oauth_app(user)
    form_login(testapp, user.email)
    before = row_counts(dbsession)
    _verifier, challenge = pkce()
    page = testapp.get("/oauth/authorize", authorize_params(app, challenge), status=403)
    assert "second factor" in page.text and "Location" not in page.headers
    assert row_counts(dbsession) == before


def test_a_stolen_code_without_its_verifier_cannot_be_burnt(testapp, world, dbsession):
    """PKCE makes an intercepted code harmless: the thief's tries, without the
    verifier or from another redirect URI, do not spend it."""
    user, app, secret, *_ = world
    code, verifier = code_for(testapp, user, app)
    exchange(testapp, app, secret, code, "x" * 43, status=400)
    exchange(testapp, app, secret, code, verifier, status=400,
             redirect_uri="http://127.0.0.1:8765/other")
    exchange(testapp, app, secret, code, None, status=400)
    body = exchange(testapp, app, secret, code, verifier).json
    testapp.get("/api/me", headers=bearer(body["access_token"]), status=200)
    assert len(dbsession.scalars(select(OAuthGrant)).all()) == 1


@pytest.mark.parametrize("challenge", ["a" * 42, "a" * 44, "a" * 300, "a" * 42 + "=", "é" * 43])
def test_a_challenge_no_s256_digest_can_be_is_refused(testapp, world, dbsession, challenge):
    user, app, *_ = world
    form_login(testapp, user.email)
    before = row_counts(dbsession)
    answer = testapp.get("/oauth/authorize", authorize_params(app, challenge), status=302)
    assert query_of(answer.headers["Location"])["error"] == "invalid_request"
    assert row_counts(dbsession) == before
