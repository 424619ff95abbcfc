"""Redirects carry a same-site path, percent-encoded, never a host taken from
the request (DESIGN section 8)."""
from __future__ import annotations

import pytest

from dragonhoard.views.pages import safe_next

from ..factories import PASSWORD
from ..helpers import form_login, login


@pytest.mark.parametrize("target, expected", [
    ("/account/security?page=2", "/account/security?page=2"),
    ("/drachen/\u9f8d?q=gr\u00fcn", "/drachen/%E9%BE%8D?q=gr%C3%BCn"),
    ("/\U0001f409", "/%F0%9F%90%89"),
    ("/a b", "/a%20b"),
    ("/already%20encoded", "/already%20encoded"),
    ("/.//evil.example", "/"),
    ("/./x", "/"),
    ("/a/../b", "/"),
    ("/%2e%2e//evil.example", "/"),
    ("/%2E/x", "/"),
    ("//evil.example", "/"),
    ("/\\evil.example", "/"),
    ("https://evil.example/", "/"),
    ("", "/"),
    (None, "/"),
])
def test_safe_next(target, expected):
    assert safe_next(target) == expected


@pytest.mark.parametrize("target", ["/\u9f8d", "/caf\u00e9?x=\u2603", "/.//evil.example"])
def test_a_form_login_with_any_next_redirects_to_an_ascii_path(testapp, factory, target):
    user = factory.user()
    response = form_login(testapp, user.email, forced_next=target, status=303)
    assert response.location.startswith("/") and not response.location.startswith("//")
    assert response.location.isascii()
    # The login went through once, and the session works.
    assert testapp.get("/api/me").json["user"]["id"] == user.id


def test_the_sudo_page_redirects_to_an_encoded_path(testapp, factory):
    user = factory.user()
    csrf = login(testapp, user)
    response = testapp.post("/account/sudo", {"csrf_token": csrf, "password": PASSWORD,
                                              "next": "/tokens?\u9f8d=1"}, status=303)
    assert response.location == "/tokens?%E9%BE%8D=1"


def test_redirects_never_carry_the_requests_host(testapp):
    for path in ("/tokens", "/account/sessions", "/"):
        response = testapp.get(path, headers={"Host": "evil.example"}, status=303)
        assert response.location.startswith("/login?next=%2F")
        assert "evil.example" not in str(response.headers)
