"""Whatever an authorization request holds, the answer is never a 500 and
nothing is written (DESIGN section 13: fail closed)."""
from __future__ import annotations

import pytest

from ..helpers import bearer, form_login, row_counts
from .flows import DEVICE_GRANT, authorize_params, basic, pkce

QUERIES = [
    "client_id=a&client_id=b",
    "response_type=token&client_id={client_id}&redirect_uri=http%3A%2F%2F127.0.0.1%3A8765%2Fcallback",
    "client_id={client_id}&redirect_uri=http%3A%2F%2F127.0.0.1%3A8765%2Fcallback&scope=%ff%fe",
    "client_id={client_id}&scope=" + "treasure:read+" * 500,
    "client_id=%00&redirect_uri=%00",
    "client_id=" + "x" * 5000,
    "client_id={client_id}&redirect_uri=http%3A%2F%2F127.0.0.1%3A8765%2Fcallback"
    "&response_type=code&code_challenge=" + "a" * 5000 + "&code_challenge_method=S256",
    "client_id={client_id}&redirect_uri=http%3A%2F%2F127.0.0.1%3A8765%2Fcallback"
    "&response_type=code&code_challenge=abc&code_challenge_method=S512",
    "%%%&&&===",
    "client_id={client_id}&redirect_uri=javascript:alert(1)",
]


@pytest.mark.parametrize("query", QUERIES)
def test_malformed_authorization_requests_are_refused_cleanly(testapp, factory, dbsession,
                                                              query):
    user = factory.user()
    app, _secret = factory.oauth_app(user)
    form_login(testapp, user.email)
    before = row_counts(dbsession)
    answer = testapp.get("/oauth/authorize?" + query.format(client_id=app.client_id),
                         expect_errors=True)
    assert answer.status_int in (200, 302, 400), answer.status
    if answer.status_int == 302:
        assert answer.headers["Location"].startswith("http://127.0.0.1:8765/callback?error=")
    assert row_counts(dbsession) == before


BODIES = [
    {"grant_type": "authorization_code", "code": "x" * 5000, "code_verifier": "y" * 5000},
    {"grant_type": "refresh_token", "refresh_token": "\x00"},
    {"grant_type": DEVICE_GRANT, "device_code": "z" * 5000},
    {"grant_type": DEVICE_GRANT},
    {"grant_type": ["authorization_code", "refresh_token"]},
    {"grant_type": "client_credentials"},
    {"grant_type": "password", "username": "a", "password": "b"},
]


@pytest.mark.parametrize("body", BODIES)
def test_malformed_token_requests_are_refused_cleanly(testapp, factory, dbsession, body):
    app, secret = factory.oauth_app(factory.user())
    before = row_counts(dbsession)
    for headers in (basic(app.client_id, secret), basic("x" * 5000, "y"),
                    {"Authorization": "Basic !!!"}, bearer("dhp_nope")):
        answer = testapp.post("/oauth/token", body, headers=headers, expect_errors=True)
        assert answer.status_int in (400, 401), (headers, answer.status, answer.text)
        assert set(answer.json) <= {"error", "error_description"}
    assert row_counts(dbsession) == before


def test_a_consent_form_for_another_request_is_refused(testapp, factory, dbsession):
    """The form re-validates what it carries: a forged redirect URI there is
    refused as on the GET, and no code goes anywhere."""
    user = factory.user()
    app, _secret = factory.oauth_app(user)
    form_login(testapp, user.email)
    _verifier, challenge = pkce()
    form = testapp.get("/oauth/authorize", authorize_params(app, challenge)).forms["consent"]
    form["redirect_uri"].force_value("http://evil.example/steal")
    before = row_counts(dbsession)
    answer = form.submit("decision", value="allow", status=400)
    assert "Location" not in answer.headers
    assert row_counts(dbsession) == before


@pytest.mark.parametrize("path", ["/oauth/token", "/oauth/device_authorization",
                                  "/oauth/revoke", "/oauth/introspect"])
def test_undecodable_forms_are_invalid_requests(testapp, path):
    for body in (b"%%%&&&===", b"a=%zz", b"\xff"):
        answer = testapp.post(path, body, status=400,
                              headers={"Content-Type": "application/x-www-form-urlencoded"})
        # oauthlib reads an undecodable form as no parameters at all.
        assert answer.json["error"] in ("invalid_request", "unsupported_grant_type")


def test_a_login_page_on_the_way_to_a_malformed_request_is_still_the_login_page(testapp):
    for client_id in ("%00", "x" * 5000, "a%27%20OR%201=1"):
        page = testapp.get("/login", {"next": f"/oauth/authorize?client_id={client_id}"})
        assert "form-action 'self';" in page.headers["Content-Security-Policy"]
