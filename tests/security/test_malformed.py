"""No request, however malformed, answers 500 or writes anything (DESIGN section 6)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from dragonhoard.models import ApiToken, Treasure
from dragonhoard.security import tokens

from ..factories import PASSWORD
from ..helpers import bearer, form_login, login

HUGE = "99999999999999999999"


@pytest.mark.parametrize("path", ["/%FF", "/api/projects/%FF", "/api/treasures?project=%FF",
                                  "/login?next=%FF", "/api/treasures?page=%C3%28"])
def test_urls_that_are_not_utf8_are_400(testapp, path):
    response = testapp.get(path, status=400)
    assert response.json["error"] == "bad_request"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("origin", ["http://[x", "http://[x/"])
def test_an_origin_that_is_not_a_url_is_foreign(testapp, factory, origin):
    user = factory.user()
    response = testapp.post_json("/api/login", {"email": user.email, "password": PASSWORD},
                                 headers={"Origin": origin}, status=403)
    assert response.json["error"] == "csrf_failed"
    testapp.post_json("/api/login", {"email": user.email, "password": PASSWORD},
                      headers={"Referer": origin}, status=403)


def test_nul_characters_are_refused_everywhere(testapp, factory, dbsession):
    user = factory.user()
    testapp.get("/api/projects/ab%00cd", status=404)
    testapp.get("/api/projects/ab%00cd/treasures", status=404)
    assert testapp.get("/api/treasures?project=a%00b").json["total"] == 0
    response = testapp.post_json("/api/login", {"email": "a\u0000@b.example", "password": "x"}, status=422)
    assert "email" in response.json["fields"]
    form_login(testapp, "a\u0000@b.example", status=400)
    csrf = login(testapp, user)
    headers = {"X-CSRF-Token": csrf}
    assert testapp.get("/api/users?username=a%00b").json["items"] == []
    testapp.post_json("/api/treasures", {"name": "Cup\u0000"}, headers=headers, status=422)
    testapp.post_json("/api/projects", {"slug": "ok-slug", "name": "x\u0000"}, headers=headers, status=422)
    testapp.post_json("/api/tokens", {"name": "t\u0000"}, headers=headers, status=422)
    assert dbsession.scalars(select(Treasure.id)).all() == []
    assert dbsession.scalars(select(ApiToken.id)).all() == []


def test_numbers_too_large_for_the_database(testapp, factory):
    user = factory.user()
    for query in (f"page={HUGE}", f"per_page={HUGE}", f"owner={HUGE}", "page=%D9%A3"):
        testapp.get(f"/api/treasures?{query}", status=422)
    testapp.get(f"/api/treasures/{HUGE}", status=404)
    testapp.get("/api/treasures/%D9%A1", status=404)  # an Arabic-Indic one is no id here
    testapp.get("/api/treasures/%EF%BC%91", status=404)
    csrf = login(testapp, user)
    headers = {"X-CSRF-Token": csrf}
    testapp.get(f"/api/users/{HUGE}", status=404)
    testapp.delete(f"/api/tokens/{HUGE}", headers=headers, status=404)
    testapp.post(f"/api/tokens/{HUGE}/rotate", headers=headers, status=404)
    testapp.delete(f"/api/sessions/{HUGE}", headers=headers, status=404)
    testapp.get(f"/tokens/{HUGE}/revoke", status=404)
    testapp.get(f"/api/events?page={HUGE}", status=422)
    testapp.get(f"/account/security?page={HUGE}", status=422)


def test_dates_out_of_range(testapp, factory):
    user = factory.user()
    headers = {"X-CSRF-Token": login(testapp, user)}
    response = testapp.post_json("/api/tokens", {"name": "far", "expires_at": "9999-12-31"},
                                 headers=headers, status=422)
    assert "expires_at" in response.json["fields"]
    for stamp in ("0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"):
        response = testapp.post_json("/api/treasures", {"name": "Cup", "plundered_at": stamp},
                                     headers=headers, status=422)
        assert "plundered_at" in response.json["fields"]


def test_a_name_of_spaces_is_422_not_a_conflict(testapp, factory):
    user = factory.user()
    treasure = factory.treasure(user)
    headers = {"X-CSRF-Token": login(testapp, user)}
    response = testapp.post_json("/api/treasures", {"name": " a "}, headers=headers, status=422)
    assert "name" in response.json["fields"]
    testapp.patch_json(f"/api/treasures/{treasure.id}", {"name": " a "}, headers=headers, status=422)


def test_the_bearer_scheme_takes_exactly_one_space(testapp, factory):
    _row, secret = factory.token(factory.user())
    response = testapp.get("/api/me", headers={"Authorization": f"Bearer\t{secret}"}, status=400)
    assert 'error="invalid_request"' in response.headers["WWW-Authenticate"]


def test_a_refused_credential_is_answered_before_a_wrong_method(testapp, factory, clock):
    _row, secret = factory.token(factory.user(), revoked_at=clock.at)
    response = testapp.put("/api/me", headers=bearer(secret), status=401)
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    testapp.put("/api/me", headers=bearer(tokens.generate()), status=401)
    assert testapp.put("/api/me", status=405).headers["Allow"] == "GET, HEAD"


def test_a_body_over_the_limit_gets_the_usual_headers(testapp):
    response = testapp.post("/api/users", "x" * (1024 * 1024 + 1), content_type="application/json",
                            status=413)
    assert response.headers["Vary"] == "Authorization, Cookie"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
