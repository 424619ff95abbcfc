"""The /tokens page: create (shown once), list, rotate, revoke, sudo, warnings."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from dragonhoard.models import ApiToken
from dragonhoard.services.tokens import LATEST_EXPIRY

from ..factories import PASSWORD
from ..helpers import bearer, caller_id, form_login


def test_create_shows_the_token_once(testapp, factory, dbsession):
    user = factory.user()
    project = factory.project(slug="erebor", members={user: "editor"})
    form_login(testapp, user.email)
    page = testapp.get("/tokens")
    assert "No tokens yet." in page.text and "<code>admin</code>" not in page.text
    form = page.forms[1]
    form["name"] = "laptop"
    form.get("scopes", index=0).checked = True  # treasure:read
    form["expiry"] = "7"
    form["restrict"] = True
    form.get("projects", index=0).checked = True
    response = form.submit(status=201)
    assert response.headers["Cache-Control"] == "no-store"
    secret = response.html.find(id="new-token").text.strip()
    assert secret.startswith("dhp_") and len(secret) == 50
    assert "shown this once" in response.text
    row = dbsession.scalars(select(ApiToken)).one()
    assert row.scope_list == ["treasure:read"] and row.is_restricted
    assert [link.project_id for link in row.project_links] == [project.id]
    assert caller_id(testapp, headers=bearer(secret)) == user.id
    listing = testapp.get("/tokens")
    assert secret not in listing.text and secret[:12] in listing.text
    assert "never" in listing.text or "from 192.0.2.10" in listing.text


def test_form_errors_are_shown_and_nothing_is_created(testapp, factory, dbsession):
    user = factory.user()
    form_login(testapp, user.email)
    form = testapp.get("/tokens").forms[1]
    form["name"] = "x"
    form["expiry"] = "date"
    form["expires_on"] = "2001-01-01"
    response = form.submit(status=400)
    assert "The date is in the past." in response.text
    form = response.forms[1]
    form["networks"] = "not-a-network"
    response = form.submit(status=400)
    assert "is not an address range" in response.text
    assert dbsession.scalars(select(ApiToken.id)).all() == []


#: A form that creates a token, every field filled in.
GOOD_FORM = {"name": "laptop", "scopes": "treasure:read", "expiry": "7", "restrict": "on",
             "projects": "erebor", "networks": "10.0.0.0/8"}


@pytest.mark.parametrize("field, value", [
    (None, None),
    ("name", "lap\x00top"),
    ("scopes", "treasure:read\x00"),
    ("expiry", "7\x00"),
    ("expires_on", "2030-01-01\x00"),
    ("restrict", "on\x00"),
    ("projects", "erebor\x00"),
    ("networks", "10.0.0.0/8\x00"),
    ("networks", "\x00"),
])
def test_a_nul_in_any_field_is_refused_and_writes_nothing(testapp, factory, dbsession, field,
                                                          value):
    """Every field passes the JSON body's validation: NUL never reaches the
    database (PostgreSQL's text refuses it). ``None``: the same form, good."""
    user = factory.user()
    factory.project(slug="erebor", members={user: "viewer"})
    form_login(testapp, user.email)
    fields = dict(GOOD_FORM, csrf_token=testapp.get("/tokens").forms[1]["csrf_token"].value)
    if field == "expires_on":
        fields["expiry"] = "date"
    if field is None:
        testapp.post("/tokens", fields, status=201)
        assert len(dbsession.scalars(select(ApiToken.id)).all()) == 1
        return
    fields[field] = value
    response = testapp.post("/tokens", fields, status=400)
    assert "\x00" not in response.text
    assert response.html.find(class_="field-error") is not None
    assert response.forms[1].action == "/tokens" and response.forms[1]["name"].value
    assert dbsession.scalars(select(ApiToken.id)).all() == []


def test_creating_outside_sudo_asks_for_the_password(testapp, factory, clock, dbsession):
    user = factory.user()
    form_login(testapp, user.email)
    clock.advance(seconds=901)
    form = testapp.get("/tokens").forms[1]
    form["name"] = "late"
    response = form.submit(status=403)
    assert "Confirm your password" in response.text
    sudo = response.forms[1]
    sudo["password"] = PASSWORD
    page = sudo.submit(status=303).follow()
    form = page.forms[1]
    form["name"] = "late"
    form.submit(status=201)
    assert dbsession.scalars(select(ApiToken.name)).all() == ["late"]


def test_revoke_asks_for_confirmation(testapp, factory, dbsession):
    user = factory.user()
    token, secret = factory.token(user, name="old")
    form_login(testapp, user.email)
    confirm = testapp.get(f"/tokens/{token.id}/revoke")
    assert "Revoke “old”?" in confirm.text
    listing = confirm.forms[1].submit(status=303).follow()
    assert "is revoked" in listing.text
    testapp.get("/api/me", headers=bearer(secret), status=401)


def test_rotate_button(testapp, factory):
    user = factory.user()
    token, secret = factory.token(user, name="ci")
    form_login(testapp, user.email)
    listing = testapp.get("/tokens")
    form = next(f for f in listing.forms.values() if f.action == f"/tokens/{token.id}/rotate")
    response = form.submit(status=201)
    new_secret = response.html.find(id="new-token").text.strip()
    assert caller_id(testapp, headers=bearer(new_secret)) == user.id
    testapp.get("/api/me", headers=bearer(secret), status=401)


def test_rotate_button_at_the_end_of_the_calendar(testapp, factory, dbsession, clock):
    user = factory.user()
    token, _ = factory.token(user, name="ci", expires_at=LATEST_EXPIRY,
                             created_at=clock.at - timedelta(days=10))
    form_login(testapp, user.email)
    listing = testapp.get("/tokens")
    form = next(f for f in listing.forms.values() if f.action == f"/tokens/{token.id}/rotate")
    response = form.submit(status=201)
    assert "Expires: 9999-12-31 00:00 UTC." in response.text
    new = dbsession.scalars(select(ApiToken).where(ApiToken.rotated_from == token.id)).one()
    assert new.expires_at == LATEST_EXPIRY


def test_rotate_button_says_what_was_dropped(testapp, factory, dbsession):
    user = factory.user(is_admin=True)
    kept = factory.project(slug="erebor", members={user: "viewer"})
    left = factory.project(slug="moria")
    token, _ = factory.token(user, name="ci", scopes=["admin", "treasure:read"],
                             projects=[kept, left])
    other, _ = factory.token(user, name="other", scopes=["treasure:read"])
    user.is_admin = False
    dbsession.commit()
    form_login(testapp, user.email)
    listing = testapp.get("/tokens")
    form = next(f for f in listing.forms.values() if f.action == f"/tokens/{token.id}/rotate")
    response = form.submit(status=201)
    assert response.html.find(id="dropped").text == (
        "Rotating applies today's rules: the new token no longer has the scope admin"
        " or the project moria.")
    assert "Scopes: treasure:read." in response.text
    listing = testapp.get("/tokens")
    form = next(f for f in listing.forms.values() if f.action == f"/tokens/{other.id}/rotate")
    assert form.submit(status=201).html.find(id="dropped") is None


def test_the_page_warns_of_tokens_expiring_soon(testapp, factory, clock):
    user = factory.user()
    factory.token(user, name="soon", expires_at=clock.at + timedelta(days=3))
    factory.token(user, name="later", expires_at=clock.at + timedelta(days=20))
    form_login(testapp, user.email)
    page = testapp.get("/tokens")
    warning = page.html.find(class_="warning").text
    assert "soon" in warning and "later" not in warning


def test_another_users_token_pages_are_404(testapp, factory):
    user = factory.user()
    theirs, _ = factory.token(factory.user())
    form_login(testapp, user.email)
    testapp.get(f"/tokens/{theirs.id}/revoke", status=404)


def test_tokens_page_needs_a_login(testapp):
    assert "/login?next=%2Ftokens" in testapp.get("/tokens", status=303).location


def test_the_form_defaults_to_the_shorter_of_30_days_and_the_maximum(make_testapp, factory, dbsession,
                                                                      clock):
    testapp = make_testapp(dragonhoard__tokens__max_lifetime_days="10")
    user = factory.user()
    form_login(testapp, user.email)
    form = testapp.get("/tokens").forms[1]
    assert form["expiry"].value == ""
    form["name"] = "default"
    form.submit(status=201)
    token = dbsession.scalars(select(ApiToken)).one()
    assert token.expires_at == clock.at + timedelta(days=10)
