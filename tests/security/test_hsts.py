"""With secure cookies (production) every answer sends Strict-Transport-Security
(DESIGN section 8): pages, the API, errors, and the answers given before any
view runs."""
from __future__ import annotations

HSTS = "max-age=31536000; includeSubDomains"


def requests(testapp):
    # First, while webtest's cookie jar is empty (it cannot handle this URL).
    yield testapp.get("/%FF", status=400)  # answered before the tweens
    yield testapp.get("/login")
    yield testapp.get("/api/treasures")
    yield testapp.get("/api/me", status=401)
    yield testapp.get("/api/no-such-thing", status=404)
    yield testapp.get("/tokens", status=303)
    yield testapp.get("/static/site.css")
    yield testapp.post("/api/users", b"x" * 2_000_000, content_type="application/json", status=413)


def test_every_answer_sends_hsts_with_secure_cookies(make_testapp):
    testapp = make_testapp(dragonhoard__cookie_secure="true")
    for number, response in enumerate(requests(testapp)):
        assert response.headers.getall("Strict-Transport-Security") == [HSTS], number


def test_no_hsts_without_secure_cookies(testapp):
    for response in requests(testapp):
        assert "Strict-Transport-Security" not in response.headers
